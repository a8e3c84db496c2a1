package probes

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Format writes a run as a readable table of steps with their status,
// timings and failures, for `sentinel probe run NAME`.
func Format(w io.Writer, r Result) error {
	verdict := "PASS"
	if !r.Success {
		verdict = "FAIL"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s  %s  at %s  location %s", verdict, r.Probe, ms(r.Duration.Std()), r.At.UTC().Format(time.RFC3339), r.Location)
	if r.Attempts > 1 {
		fmt.Fprintf(&b, "  attempts %d", r.Attempts)
	}
	b.WriteString("\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tRESULT\tSTATUS\tDURATION\tRESOLVE\tCONNECT\tTLS\tPROCESSING\tTRANSFER")
	for _, s := range r.Steps {
		res, status := "ok", "-"
		if !s.Success {
			res = "FAIL"
		}
		if s.Status != 0 {
			status = strconv.Itoa(s.Status)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s", s.Name, res, status, ms(s.Duration.Std()))
		for _, p := range phaseOrder {
			fmt.Fprintf(tw, "\t%s", ms(time.Duration(s.Phases[p]*float64(time.Second))))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range r.Steps {
		if s.CertExpiry != nil {
			fmt.Fprintf(&b, "\n%s: certificate expires %s", s.Name, s.CertExpiry.UTC().Format(time.RFC3339))
		}
		if len(s.Answers) > 0 {
			fmt.Fprintf(&b, "\n%s: answers %s", s.Name, strings.Join(s.Answers, ", "))
		}
		formatBrowserStep(&b, s)
		if s.Success {
			continue
		}
		fmt.Fprintf(&b, "\nstep %s failed:\n", s.Name)
		for _, f := range s.Failures {
			fmt.Fprintf(&b, "  - %s\n", f)
		}
		if s.Truncated {
			b.WriteString("  (the response body was longer than the cap and was cut)\n")
		}
		if s.Excerpt != "" {
			fmt.Fprintf(&b, "  response: %s\n", strings.ReplaceAll(s.Excerpt, "\n", "\n            "))
		}
	}
	if !r.Success && r.FailedStep == "" && r.Error != "" {
		fmt.Fprintf(&b, "\n%s\n", r.Error)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ms(d time.Duration) string {
	switch {
	case d <= 0:
		return "0ms"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return d.Round(100 * time.Millisecond).String()
}
