// Command report renders a run's results.json into report.md and
// report.html, and merges the results of sharded runs.
//
//	go run ./conformance/cmd/report -in results/ -out results/ [-previous old/results.json]
//	go run ./conformance/cmd/report merge -out results/ shard-1/ shard-2/ ...
//
// Nothing is run again: results.json is the single source of every report.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/interop-suite/interop/conformance/report"
	"github.com/interop-suite/interop/conformance/results"
)

const usage = `usage:
  report [-in DIR] [-out DIR] [-previous OLD/results.json] [-only PATTERN] [-spec DIR] [-spec-url URL] [-budget BYTES]
      render DIR/results.json (or, after a killed run, DIR/cells/*/result.json)
      into OUT/report.md and OUT/report.html
  report merge -out DIR [-spec DIR] [-spec-url URL] IN...
      merge the results.json of shards (folders or files) into DIR/results.json,
      bring their cell folders into DIR (hard links where possible), and render
      the reports there

`

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprint(os.Stderr, usage)
			fmt.Fprintf(os.Stderr, "report: %v\n", err)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "report: %v\n", err)
		os.Exit(1)
	}
}

type usageError struct{ error }

func run(args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "merge" {
		return merge(args[1:], stdout)
	}
	return render(args, stdout)
}

// common are the flags both subcommands share.
type common struct {
	spec, specURL string
	budget        int
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.spec, "spec", "", "the spec/ folder with the requirement texts (default: found upwards from here and from the results)")
	fs.StringVar(&c.specURL, "spec-url", githubSpecURL(), "link requirement ids in report.md to this URL of spec/ (default on GitHub Actions: this commit's spec/)")
	fs.IntVar(&c.budget, "budget", 0, "bytes of report.html for full cell details (0: the default)")
}

func (c *common) options(dirs ...string) report.Options {
	spec := c.spec
	if spec == "" {
		spec = report.FindSpecDir(append([]string{"."}, dirs...)...)
	}
	return report.Options{SpecDir: spec, SpecURL: c.specURL, DetailBudget: c.budget}
}

// githubSpecURL is this commit's spec/ folder when running on GitHub
// Actions, so report.md in a job summary links to the right text.
func githubSpecURL() string {
	server, repo, sha := os.Getenv("GITHUB_SERVER_URL"), os.Getenv("GITHUB_REPOSITORY"), os.Getenv("GITHUB_SHA")
	if server == "" || repo == "" || sha == "" {
		return ""
	}
	return server + "/" + repo + "/blob/" + sha + "/spec/"
}

// newFlags makes a flag set that reports errors to run, which prints the
// usage once.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func render(args []string, stdout io.Writer) error {
	fs := newFlags("report")
	in := fs.String("in", "results", "results folder to read")
	out := fs.String("out", "", "folder to write report.md and report.html into (default: -in)")
	prev := fs.String("previous", "", "results.json of an earlier run to compare with")
	only := fs.String("only", "", "render only the cells whose id matches this glob or contains this text (e.g. 'rudp/python-x-*')")
	var c common
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *out == "" {
		*out = *in
	}
	runRes, err := report.LoadDir(*in)
	if err != nil {
		return err
	}
	if *only != "" {
		runRes.Results = filter(runRes.Results, *only)
		if len(runRes.Results) == 0 {
			return fmt.Errorf("no cell matches -only %q", *only)
		}
	}
	opts := c.options(*in)
	opts.ArtifactsDir = *in
	if *prev != "" {
		if opts.Previous, err = report.ReadFile(*prev); err != nil {
			return err
		}
	}
	if err := report.Render(runRes, *out, opts); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and %s (%d cells)\n",
		filepath.Join(*out, report.MarkdownFile), filepath.Join(*out, report.HTMLFile), len(runRes.Results))
	return nil
}

// filter keeps the results whose id matches the glob (per path
// segment, so "rudp/python-x-*" matches a whole group) or contains it.
func filter(rs []results.Result, pattern string) []results.Result {
	var out []results.Result
	for _, r := range rs {
		if matches(r.ID, pattern) {
			out = append(out, r)
		}
	}
	return out
}

func matches(id, pattern string) bool {
	if strings.Contains(id, pattern) {
		return true
	}
	// Match the pattern against the id and each of its prefixes, so a
	// group pattern selects all its seeds.
	parts := strings.Split(id, "/")
	for i := len(parts); i > 0; i-- {
		if ok, _ := path.Match(pattern, strings.Join(parts[:i], "/")); ok {
			return true
		}
	}
	return false
}

func merge(args []string, stdout io.Writer) error {
	fs := newFlags("report merge")
	out := fs.String("out", "", "folder to write the merged results.json and reports into (required)")
	var c common
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *out == "" || fs.NArg() == 0 {
		return usageError{errors.New("merge needs -out DIR and at least one input")}
	}
	var runs []*results.Run
	var dirs []string
	for _, in := range fs.Args() {
		dir := in
		if st, err := os.Stat(in); err == nil && !st.IsDir() {
			dir = filepath.Dir(in)
		}
		r, err := report.ReadFile(in)
		if err != nil {
			return err
		}
		runs = append(runs, r)
		dirs = append(dirs, dir)
	}
	merged, err := report.Merge(runs...)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for i, r := range runs {
		for _, res := range r.Results {
			if res.Artifacts == "" {
				continue
			}
			if err := bringCell(dirs[i], *out, res.Artifacts); err != nil {
				return fmt.Errorf("cell folder of %s: %w", res.ID, err)
			}
		}
	}
	if err := merged.Write(filepath.Join(*out, "results.json")); err != nil {
		return err
	}
	if err := report.Render(merged, *out, c.options(append([]string{*out}, dirs...)...)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "merged %d runs (%d cells) into %s\n", len(runs), len(merged.Results), filepath.Join(*out, "results.json"))
	return nil
}
