package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"
)

// Row is one line of the report: a measured figure and, where the issue
// sets one, its target and whether it was met. An integrity row counts
// what must never happen at any speed (a message lost, duplicated or out
// of order, a wrong answer): `-fail-on integrity` fails on those alone.
type Row struct {
	Scenario  string  `json:"scenario"`
	Metric    string  `json:"metric"`
	Value     float64 `json:"value"`
	Unit      string  `json:"unit"`
	Target    string  `json:"target,omitempty"`
	Met       *bool   `json:"met,omitempty"`
	Integrity bool    `json:"integrity,omitempty"`
	Note      string  `json:"note,omitempty"`
}

// check makes a row whose value is held against a target.
func check(scenario, metric string, value float64, unit, target string, met bool) Row {
	return Row{Scenario: scenario, Metric: metric, Value: value, Unit: unit, Target: target, Met: &met}
}

// correct makes an integrity row: ok is false when something was lost,
// duplicated, reordered or wrong.
func correct(scenario, metric string, value float64, unit, target string, ok bool) Row {
	r := check(scenario, metric, value, unit, target, ok)
	r.Integrity = true
	return r
}

// failures names the rows that fail the run: every missed target, or with
// integrityOnly the integrity rows alone.
func failures(rows []Row, integrityOnly bool) []string {
	var failed []string
	for _, r := range rows {
		if r.Met != nil && !*r.Met && (r.Integrity || !integrityOnly) {
			failed = append(failed, r.Scenario+": "+r.Metric)
		}
	}
	return failed
}

func info(scenario, metric string, value float64, unit string) Row {
	return Row{Scenario: scenario, Metric: metric, Value: value, Unit: unit}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Report is the whole run, as printed and as written to JSON.
type Report struct {
	Machine string    `json:"machine"`
	Started time.Time `json:"started"`
	Rows    []Row     `json:"rows"`
}

func (r Report) printTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tMETRIC\tVALUE\tTARGET\tMET\tNOTE")
	for _, row := range r.Rows {
		met := ""
		if row.Met != nil {
			met = map[bool]string{true: "yes", false: "NO"}[*row.Met]
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f %s\t%s\t%s\t%s\n", row.Scenario, row.Metric, row.Value, row.Unit, row.Target, met, row.Note)
	}
	tw.Flush()
}

func (r Report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
