// Command images builds the suite's images by hand: toolchain base images
// (`images base python rust`, or `images base all`) and prints their tags.
// The conformance suite builds what it needs itself; this is for people
// writing a new implementation who want `docker build` to work by hand.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/interop-suite/interop/conformance/images"
)

func main() {
	dockerDir := flag.String("docker-dir", "docker", "the repository's docker/ folder")
	source := flag.String("source", os.Getenv("INTEROP_BASE_SOURCE"), "base image source: mmdebstrap (offline) or registry (default: mmdebstrap when possible)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: images [flags] base NAME... | base all | list\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	args := flag.Args()
	if len(args) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	names, err := images.ListToolchains(*dockerDir)
	if err != nil {
		fail(err)
	}
	switch args[0] {
	case "list":
		for _, n := range names {
			tc, err := images.LoadToolchain(*dockerDir, n)
			if err != nil {
				fail(err)
			}
			state := "missing"
			if images.ImageExists(ctx, tc.Tag()) {
				state = "built"
			}
			fmt.Printf("%-10s %-34s %-7s %v\n", n, tc.Tag(), state, tc.Packages)
		}
	case "base":
		want := args[1:]
		if len(want) == 1 && want[0] == "all" {
			want = names
		}
		b := &images.Bases{DockerDir: *dockerDir, Source: images.Source(*source), Progress: os.Stderr}
		for _, n := range want {
			tag, err := b.Ensure(ctx, n)
			if err != nil {
				fail(err)
			}
			fmt.Println(tag)
		}
	default:
		flag.Usage()
		os.Exit(2)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "images:", err)
	os.Exit(1)
}
