// Package report turns a run's results.json (spec/results.md) into what a
// person reads: report.md, a client×server matrix per protocol and
// scenario for the pull-request job summary, and report.html, one
// self-contained page (no network, no external files) with filterable
// matrices, every cell's details with its logs and wire-checker findings,
// a sequence/time plot of each RUDP transfer drawn from the simulator's
// trace, and a leaderboard of transfer times relative to the reference.
//
// results.json stays the single source: Render only reads it (and each
// cell's trace), so every report can be re-rendered without running
// anything again. Merge combines the results.json of sharded runs.
//
// Rendering is deterministic: the same run and options give the same bytes
// (maps are sorted, no clock is read), so reports diff cleanly and golden
// tests are stable.
package report
