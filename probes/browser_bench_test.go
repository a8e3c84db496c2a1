package probes

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sentinel-oss/sentinel/config"
)

// BenchmarkBrowserJourney measures what one run of the three-step shop
// journey (home, product, add to cart) costs in real headless Chromium:
// wall time, CPU seconds of every browser process, and the peak memory
// (PSS, summed over the browser's processes) per run; and how many runs
// finish per minute with two browsers at once.
//
// CPU and memory are sampled from /proc every 20 ms for the processes using
// the run's profile (the browser is killed at the end of each run, so its
// children are never reaped by this process and getrusage would miss
// them); each process's last 20 ms may be missed.
//
//	go test -run '^$' -bench BrowserJourney -benchtime 10x ./probes/
func BenchmarkBrowserJourney(b *testing.B) {
	_, url := browserShop(b)
	for _, par := range []int{1, 2} {
		b.Run("browsers="+strconv.Itoa(par), func(b *testing.B) {
			profiles := b.TempDir()
			s, _ := browserService(b, strings.Replace(shopJourney, "kind: browser", "kind: browser\n    interval: 5m", 1), url, profiles)
			e := s.runner.browser.Load()
			s.runner.browser.Store(newBrowserEnv(config.ProbeBrowserSettings{MaxConcurrent: par, Executable: e.executable, ProfileDir: e.profileDir}, []byte(e.vitals), s.log))
			smp := newProcSampler(profiles)
			go smp.run()
			var self0 syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self0)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			var mu sync.Mutex
			var failures int
			var wall time.Duration
			next := make(chan struct{})
			go func() {
				for i := 0; i < b.N; i++ {
					next <- struct{}{}
				}
				close(next)
			}()
			for range par {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range next {
						t0 := time.Now()
						res, err := s.RunOnce(context.Background(), "browse")
						mu.Lock()
						wall += time.Since(t0)
						if err != nil || !res.Success {
							failures++
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			cpu, peak := smp.stop()
			var self1 syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self1)
			selfCPU := tv(self1.Utime) + tv(self1.Stime) - tv(self0.Utime) - tv(self0.Stime)
			n := float64(b.N)
			b.ReportMetric(wall.Seconds()/n, "wall-s/run")
			b.ReportMetric(cpu/n, "browser-cpu-s/run")
			b.ReportMetric(selfCPU/n, "go-cpu-s/run")
			b.ReportMetric(peak/(1<<20), "peak-MiB")
			b.ReportMetric(n/elapsed.Minutes(), "runs/min")
			if failures > 0 {
				b.Errorf("%d of %d runs failed", failures, b.N)
			}
		})
	}
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// procSampler follows the processes whose command line holds dir.
type procSampler struct {
	dir     string
	mu      sync.Mutex
	cpu     map[int]float64 // pid -> latest utime+stime seconds
	peakPSS float64         // bytes, summed over processes at one sample
	done    chan struct{}
	stopped chan struct{}
}

func newProcSampler(dir string) *procSampler {
	return &procSampler{dir: dir, cpu: map[int]float64{}, done: make(chan struct{}), stopped: make(chan struct{})}
}

func (p *procSampler) run() {
	defer close(p.stopped)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		p.sample()
		select {
		case <-p.done:
			return
		case <-t.C:
		}
	}
}

func (p *procSampler) stop() (cpuSeconds, peakBytes float64) {
	close(p.done)
	<-p.stopped
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.cpu {
		cpuSeconds += c
	}
	return cpuSeconds, p.peakPSS
}

func (p *procSampler) sample() {
	var pss float64
	forEachProcess(func(pid int, cmdline string, _ int, state string) {
		if state == "Z" || !strings.Contains(cmdline, p.dir) {
			return
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		rest := string(stat)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) < 13 {
			return
		}
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		pss += smapsPSS(pid)
		p.mu.Lock()
		p.cpu[pid] = (ut + st) / 100 // USER_HZ is 100 on Linux
		p.mu.Unlock()
	})
	p.mu.Lock()
	p.peakPSS = max(p.peakPSS, pss)
	p.mu.Unlock()
}

// smapsPSS is a process's proportional set size in bytes.
func smapsPSS(pid int) float64 {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "Pss:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb * 1024
		}
	}
	return 0
}
