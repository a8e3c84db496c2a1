// Package config is Sentinel's YAML file format: the structs, the defaults
// (in one place, Default), strict decoding that refuses unknown keys at any
// depth, ${VAR} expansion, *_file secrets, and validation that reports every
// problem at once with its path and position in the file.
//
// Each component receives only its own section (Server, Storage, Auth, ...);
// only internal/app sees the whole Config.
package config
