// Command images builds the suite's images by hand: toolchain base images
// (`images base python rust`, or `images base all`) and prints their tags.
// The conformance suite builds what it needs itself; this is for people
// writing a new implementation who want `docker build` to work by hand, and
// for CI: `images tags` prints the content-hash tags of every image the
// implementations present need (the key of the image cache), and
// `images build` builds them all before shards start.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"

	"github.com/interop-suite/interop/conformance/images"
	"github.com/interop-suite/interop/conformance/registry"
	"github.com/interop-suite/interop/conformance/suite"
)

func main() {
	dockerDir := flag.String("docker-dir", "docker", "the repository's docker/ folder")
	source := flag.String("source", os.Getenv("INTEROP_BASE_SOURCE"), "base image source: mmdebstrap (offline) or registry (default: mmdebstrap when possible)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: images [flags] base NAME... | base all | list | tags | build\n")
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
	case "tags":
		tags, err := neededTags(*dockerDir)
		if err != nil {
			fail(err)
		}
		for _, t := range tags {
			fmt.Println(t)
		}
	case "build":
		if err := buildAll(ctx); err != nil {
			fail(err)
		}
	default:
		flag.Usage()
		os.Exit(2)
	}
}

// neededTags lists the base and implementation image tags of every
// implementation the suite discovers (INTEROP_IMPLS included), sorted.
// They are content hashes of the images' inputs, so the list changes
// exactly when some image must be rebuilt.
func neededTags(dockerDir string) ([]string, error) {
	cfg, err := suite.FromEnv()
	if err != nil {
		return nil, err
	}
	impls, err := registry.Discover(filepath.Join(cfg.Root, "clients"), cfg.ExtraDirs)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, impl := range impls {
		if impl.Name == registry.ReferenceName || impl.Err != nil {
			continue
		}
		var baseTag string
		if name := impl.Manifest.Toolchain; name != "" {
			tc, err := images.LoadToolchain(dockerDir, name)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", impl.Name, err)
			}
			baseTag = tc.Tag()
			seen[baseTag] = true
		}
		tag, err := suite.ImplBuild(impl, baseTag).Tag()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", impl.Name, err)
		}
		seen[tag] = true
	}
	tags := make([]string, 0, len(seen))
	for t := range seen {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	return tags, nil
}

// buildAll builds every image a run of the INTEROP_* environment needs,
// as the suite would, and fails if any implementation's build failed: in
// CI this runs once before the shards, which then find every image built.
func buildAll(ctx context.Context) error {
	cfg, err := suite.FromEnv()
	if err != nil {
		return err
	}
	impls, _, err := suite.Plan(cfg)
	if err != nil {
		return err
	}
	used := map[string]bool{}
	for _, i := range impls {
		used[i.Name] = true
	}
	built, err := suite.BuildImages(ctx, cfg, impls, used, os.Stderr)
	if err != nil {
		return err
	}
	for name, why := range built.Errors {
		fmt.Fprintf(os.Stderr, "images: %s cannot run: %s\n", name, why)
	}
	fmt.Printf("%d images ready, %d implementations broken (their cells will fail with the reason)\n", len(built.Images), len(built.Errors))
	if len(built.InfraErrors) > 0 {
		for name, why := range built.InfraErrors {
			fmt.Fprintf(os.Stderr, "images: %s: %s\n", name, why)
		}
		return fmt.Errorf("the machine failed to build %d images", len(built.InfraErrors))
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "images:", err)
	os.Exit(1)
}
