package suite

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/interop-suite/interop/conformance/images"
	"github.com/interop-suite/interop/conformance/registry"
	"github.com/interop-suite/interop/conformance/results"
)

// Built is what process #1 hands every Ginkgo process after building.
type Built struct {
	RunID   string            `json:"run_id"`
	Started time.Time         `json:"started"`
	Images  map[string]string `json:"images"` // impl name or "netsim" -> tag
	Errors  map[string]string `json:"errors"` // impl name -> why it cannot run (its own fault)
	// InfraErrors are images the machine failed to build (disk, engine,
	// base bootstrap): their cells are infrastructure errors, never blamed.
	InfraErrors map[string]string  `json:"infra_errors,omitempty"`
	Impls       []results.ImplInfo `json:"impls"`
	Agent       string             `json:"agent"` // host path of the agent binary for pooled hosts
}

// Parallel image builds: two at a time keeps a 2-core machine busy without
// thrashing (mmdebstrap and compilers are each mostly single-threaded).
const buildParallelism = 2

// BuildImages builds the reference and simulator images and, for every
// implementation in use, its toolchain base image and its own image. A
// broken manifest or a failed build is recorded against that implementation
// alone; only a failure of the suite's own images is returned as an error.
func BuildImages(ctx context.Context, cfg Config, impls []registry.Impl, used map[string]bool, progress io.Writer) (Built, error) {
	b := Built{Images: map[string]string{}, Errors: map[string]string{}, InfraErrors: map[string]string{}}
	logDir := filepath.Join(cfg.ResultsDir, "build")
	refTag, err := images.BuildGoImage(ctx, images.GoImage{
		Repo:     "interop/reference",
		Binaries: map[string]string{registry.ReferenceHelloBin: "./reference/cmd/hello", registry.ReferenceRUDPBin: "./reference/cmd/rudp"},
		ModRoot:  cfg.Root,
	}, "", progress)
	if err != nil {
		return b, fmt.Errorf("reference image: %w", err)
	}
	b.Images[registry.ReferenceName] = refTag
	simTag, err := images.BuildGoImage(ctx, images.GoImage{
		Repo: "interop/netsim", Binaries: map[string]string{"/netsim": "./conformance/cmd/netsim"}, ModRoot: cfg.Root,
	}, "", progress)
	if err != nil {
		return b, fmt.Errorf("network simulator image: %w", err)
	}
	b.Images["netsim"] = simTag
	b.Agent = filepath.Join(cfg.ResultsDir, "bin", "agent")
	if err := images.BuildGoBinary(ctx, cfg.Root, "./conformance/cmd/agent", b.Agent); err != nil {
		return b, fmt.Errorf("agent: %w", err)
	}

	bases := &images.Bases{DockerDir: filepath.Join(cfg.Root, "docker"), Progress: progress, LogDir: logDir}
	var mu sync.Mutex
	sem := make(chan struct{}, buildParallelism)
	var wg sync.WaitGroup
	for _, impl := range impls {
		info := results.ImplInfo{Name: impl.Name, Language: impl.Manifest.Language, Dir: impl.Dir}
		for _, r := range registry.Roles {
			if impl.Supports(r) {
				info.Roles = append(info.Roles, string(r))
				for f := range impl.Manifest.Roles[r].Features {
					info.Features = append(info.Features, string(r)+":"+string(f))
				}
			}
		}
		sort.Strings(info.Features)
		if impl.Name == registry.ReferenceName {
			info.Image = refTag
			b.Impls = append(b.Impls, info)
			continue
		}
		if impl.Err != nil {
			info.Error = impl.Err.Error()
			b.Errors[impl.Name] = info.Error
			b.Impls = append(b.Impls, info)
			continue
		}
		if !used[impl.Name] {
			b.Impls = append(b.Impls, info)
			continue
		}
		wg.Add(1)
		go func(impl registry.Impl, info results.ImplInfo) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			tag, err := buildImpl(ctx, bases, impl, logDir, progress)
			info.BuildMS = time.Since(start).Milliseconds()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil && images.IsInfra(err):
				b.InfraErrors[impl.Name] = "the machine could not build the image (not the implementation's fault): " + err.Error()
				fmt.Fprintf(progress, "image %-10s NOT BUILT (infrastructure): %v\n", impl.Name, err)
			case err != nil:
				info.Error = "image build failed: " + err.Error()
				b.Errors[impl.Name] = info.Error
				fmt.Fprintf(progress, "image %-10s FAILED: %v\n", impl.Name, err)
			default:
				info.Image = tag
				b.Images[impl.Name] = tag
			}
			b.Impls = append(b.Impls, info)
		}(impl, info)
	}
	wg.Wait()
	sort.Slice(b.Impls, func(i, j int) bool { return b.Impls[i].Name < b.Impls[j].Name })
	return b, ctx.Err()
}

func buildImpl(ctx context.Context, bases *images.Bases, impl registry.Impl, logDir string, progress io.Writer) (string, error) {
	var baseTag string
	if tc := impl.Manifest.Toolchain; tc != "" {
		t, err := bases.Ensure(ctx, tc)
		if err != nil {
			return "", fmt.Errorf("base image %q (MANIFEST-9): %w", tc, err)
		}
		baseTag = t
	}
	tag, _, err := images.BuildImage(ctx, ImplBuild(impl, baseTag), filepath.Join(logDir, impl.Name+".log"), progress)
	return tag, err
}

// ImplBuild is the image build of an implementation from its manifest,
// on the base image baseTag (empty: no toolchain).
func ImplBuild(impl registry.Impl, baseTag string) images.Build {
	return images.Build{Name: impl.Name, Dir: impl.Dir, Dockerfile: impl.Manifest.Dockerfile, BaseTag: baseTag}
}
