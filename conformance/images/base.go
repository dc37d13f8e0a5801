package images

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Source says where base images come from.
type Source string

const (
	// SourceMmdebstrap bootstraps a root filesystem on the host with
	// mmdebstrap and turns it into an image with `docker import`: the only way
	// on a machine whose Docker Engine cannot pull.
	SourceMmdebstrap Source = "mmdebstrap"
	// SourceRegistry builds FROM debian:<suite>-slim with apt-get, for
	// machines that can pull (GitHub's runners). Same package list, same tag.
	SourceRegistry Source = "registry"
)

// MinFreeBytes is the free disk space below which a base build refuses to
// start: a half-written image and a full disk break every other container.
const MinFreeBytes = 6 << 30

// Bases builds toolchain base images once per content hash.
type Bases struct {
	DockerDir string    // the repository's docker/ folder
	Source    Source    // empty: $INTEROP_BASE_SOURCE, else mmdebstrap when possible, else registry
	Progress  io.Writer // one line per step; never nil
	LogDir    string    // where full bootstrap logs go; empty = os.TempDir()

	mu       sync.Mutex
	inflight map[string]*baseResult
}

type baseResult struct {
	done chan struct{}
	tag  string
	err  error
}

// Ensure returns the tag of the toolchain's base image, building it if no
// image with that content hash exists. Concurrent calls for one toolchain
// share one build.
func (b *Bases) Ensure(ctx context.Context, name string) (string, error) {
	tc, err := LoadToolchain(b.DockerDir, name)
	if err != nil {
		return "", err
	}
	b.mu.Lock()
	if b.inflight == nil {
		b.inflight = map[string]*baseResult{}
	}
	r, ok := b.inflight[tc.Tag()]
	if !ok {
		r = &baseResult{done: make(chan struct{})}
		b.inflight[tc.Tag()] = r
		go func() {
			r.tag, r.err = b.build(context.WithoutCancel(ctx), tc)
			close(r.done)
		}()
	}
	b.mu.Unlock()
	select {
	case <-r.done:
		return r.tag, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (b *Bases) build(ctx context.Context, tc Toolchain) (string, error) {
	if ImageExists(ctx, tc.Tag()) {
		if !emptyImage(ctx, tc.Tag()) {
			return tc.Tag(), nil
		}
		// An empty root filesystem under the real tag: the leftover of an
		// import cut short by an older version of the suite. Rebuild it.
		fmt.Fprintf(b.Progress, "base %-8s %s is empty (a build cut short): rebuilding\n", tc.Name, tc.Tag())
		exec.CommandContext(ctx, "docker", "rmi", tc.Tag()).Run()
	}
	if err := checkFreeDisk(); err != nil {
		return "", fmt.Errorf("base image %s: %w", tc.Tag(), err)
	}
	src := b.Source
	if src == "" {
		src = Source(os.Getenv("INTEROP_BASE_SOURCE")) // CI runners with a registry say "registry"
	}
	if src == "" {
		src = SourceMmdebstrap
		if _, err := exec.LookPath("mmdebstrap"); err != nil && !canAptInstall() {
			src = SourceRegistry
		}
	}
	fmt.Fprintf(b.Progress, "base %-8s building %s from Debian %s via %s: %s\n", tc.Name, tc.Tag(), tc.Suite, src, strings.Join(tc.Packages, " "))
	start := time.Now()
	logPath := filepath.Join(b.logDir(), "base-"+tc.Name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return "", fmt.Errorf("base image %s: %w", tc.Tag(), err)
	}
	defer logf.Close()
	switch src {
	case SourceMmdebstrap:
		err = b.mmdebstrap(ctx, tc, logf)
	case SourceRegistry:
		err = b.registry(ctx, tc, logf)
	default:
		err = fmt.Errorf("unknown base image source %q (want %q or %q)", src, SourceMmdebstrap, SourceRegistry)
	}
	if err != nil {
		return "", Infra(fmt.Errorf("base image %s via %s: %w\n%s(full log: %s)", tc.Tag(), src, err, tailFile(logPath, 15), logPath))
	}
	if err := docker(ctx, nil, logf, "tag", tc.Tag(), tc.Repo()+":latest"); err != nil {
		return "", fmt.Errorf("tag base image %s: %w", tc.Tag(), err)
	}
	fmt.Fprintf(b.Progress, "base %-8s built in %s\n", tc.Name, time.Since(start).Round(time.Second))
	return tc.Tag(), nil
}

// imageChanges are applied to imported root filesystems, which carry no
// image config of their own, so they match debian:*-slim.
var imageChanges = []string{
	"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"ENV LANG=C.UTF-8",
	"CMD [\"bash\"]",
}

func (b *Bases) mmdebstrap(ctx context.Context, tc Toolchain, logf io.Writer) error {
	if err := ensureMmdebstrap(ctx, b.Progress, tc.Name, logf); err != nil {
		return err
	}
	args := []string{
		"--variant=apt", "--quiet",
		"--include=" + strings.Join(tc.Packages, ","),
		// Documentation and locales are dead weight in a test image.
		"--dpkgopt=path-exclude=/usr/share/doc/*",
		"--dpkgopt=path-exclude=/usr/share/man/*",
		"--dpkgopt=path-exclude=/usr/share/locale/*",
		"--dpkgopt=path-include=/usr/share/doc/*/copyright",
		// openjdk's postinst registers man pages with update-alternatives
		// and fails when the folder is missing (the debian:*-slim trap).
		"--essential-hook=mkdir -p \"$1\"/usr/share/man/man1",
		"--customize-hook=rm -rf \"$1\"/var/lib/apt/lists/* \"$1\"/var/cache/apt/*.bin",
		tc.Suite, "-",
	}
	boot := exec.CommandContext(ctx, "mmdebstrap", args...)
	boot.Env = systemPath(os.Environ())
	boot.Stderr = logf
	tar, err := boot.StdoutPipe()
	if err != nil {
		return err
	}
	imp := []string{"import"}
	for _, c := range imageChanges {
		imp = append(imp, "--change", c)
	}
	// Import under a scratch tag and rename only once both sides
	// succeeded: a build killed half way (Ctrl-C, kill -9, a full disk)
	// must never leave an empty image under the real tag, which every
	// later run would take as built.
	partial := tc.Repo() + ":incomplete-" + tc.Hash
	imp = append(imp, "-", partial)
	importer := exec.CommandContext(ctx, "docker", imp...)
	importer.Stdin = tar
	importer.Stdout, importer.Stderr = logf, logf
	if err := boot.Start(); err != nil {
		return fmt.Errorf("start mmdebstrap: %w", err)
	}
	if err := importer.Start(); err != nil {
		boot.Process.Kill()
		boot.Wait()
		return fmt.Errorf("start docker import: %w", err)
	}
	bootErr := boot.Wait()
	impErr := importer.Wait()
	defer exec.Command("docker", "rmi", partial).Run()
	if bootErr != nil {
		return fmt.Errorf("mmdebstrap %s: %w", strings.Join(args, " "), bootErr)
	}
	if impErr != nil {
		return fmt.Errorf("docker import: %w", impErr)
	}
	return docker(ctx, nil, logf, "tag", partial, tc.Tag())
}

// emptyImage reports whether an image has no content at all.
func emptyImage(ctx context.Context, tag string) bool {
	out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Size}}", tag).Output()
	return err == nil && strings.TrimSpace(string(out)) == "0"
}

// systemPath puts Debian's own folders first in PATH. mmdebstrap runs its
// Python helper (mmtarfilter) once per package; through a version
// manager's shim (pyenv, as on these machines) each start cost 7x more
// (measured: 11.6 s against 1.7 s per start at load 30), which made a cold
// base build take over half an hour.
func systemPath(env []string) []string {
	const system = "/usr/sbin:/usr/bin:/sbin:/bin"
	out := make([]string, 0, len(env)+1)
	found := false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			kv, found = "PATH="+system+":"+v, true
		}
		out = append(out, kv)
	}
	if !found {
		out = append(out, "PATH="+system)
	}
	return out
}

// registryDockerfile is the online twin of the mmdebstrap bootstrap: same
// suite, same package list, same resulting tag.
const registryDockerfile = `ARG SUITE=bookworm
FROM debian:${SUITE}-slim
ARG PACKAGES
RUN mkdir -p /usr/share/man/man1 && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PACKAGES && rm -rf /var/lib/apt/lists/*
`

func (b *Bases) registry(ctx context.Context, tc Toolchain, logf io.Writer) error {
	return docker(ctx, strings.NewReader(registryDockerfile), logf, "build", "--force-rm",
		"--build-arg", "SUITE="+tc.Suite,
		"--build-arg", "PACKAGES="+strings.Join(tc.Packages, " "),
		"-t", tc.Tag(), "-")
}

func (b *Bases) logDir() string {
	if b.LogDir != "" {
		os.MkdirAll(b.LogDir, 0o755)
		return b.LogDir
	}
	return os.TempDir()
}

// ImageExists reports whether the engine has an image with this reference.
func ImageExists(ctx context.Context, ref string) bool {
	return exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", ref).Run() == nil
}

func docker(ctx context.Context, stdin io.Reader, out io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdin = stdin
	var buf bytes.Buffer
	w := io.MultiWriter(out, &buf)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, lastLines(buf.String(), 10))
	}
	return nil
}

var aptMu sync.Mutex

func canAptInstall() bool {
	_, err := exec.LookPath("apt-get")
	return err == nil && os.Geteuid() == 0
}

// ensureMmdebstrap installs mmdebstrap when it is missing. Bases build in
// parallel: the check is made again under aptMu, so the builds that waited
// for the first one's install do not install it again.
func ensureMmdebstrap(ctx context.Context, progress io.Writer, name string, logf io.Writer) error {
	if _, err := exec.LookPath("mmdebstrap"); err == nil {
		return nil
	}
	aptMu.Lock()
	defer aptMu.Unlock()
	if _, err := exec.LookPath("mmdebstrap"); err == nil {
		return nil
	}
	fmt.Fprintf(progress, "base %-8s installing mmdebstrap with apt-get\n", name)
	if err := aptInstall(ctx, logf, "mmdebstrap"); err != nil {
		return fmt.Errorf("mmdebstrap is missing and apt-get install failed: %w", err)
	}
	return nil
}

// aptInstall runs apt-get; the caller holds aptMu.
func aptInstall(ctx context.Context, logf io.Writer, pkgs ...string) error {
	if !canAptInstall() {
		return errors.New("not root or no apt-get: install it yourself (sudo apt-get install " + strings.Join(pkgs, " ") + ")")
	}
	up := exec.CommandContext(ctx, "apt-get", "update", "-qq")
	up.Stdout, up.Stderr = logf, logf
	if err := up.Run(); err != nil {
		return fmt.Errorf("apt-get update: %w", err)
	}
	in := exec.CommandContext(ctx, "apt-get", append([]string{"install", "-y", "-qq", "--no-install-recommends"}, pkgs...)...)
	in.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	in.Stdout, in.Stderr = logf, logf
	return in.Run()
}

// checkFreeDisk fails early, with the numbers, when the disk that holds
// Docker's images is nearly full.
func checkFreeDisk() error {
	for _, dir := range []string{"/var/lib/docker", "/"} {
		var st syscall.Statfs_t
		if syscall.Statfs(dir, &st) != nil {
			continue
		}
		free := st.Bavail * uint64(st.Bsize)
		if need := minFreeBytes(); free < need {
			return Infra(fmt.Errorf("only %.1f GiB free on %s; building an image needs at least %d GiB (free space with `docker image prune` or delete old results)", float64(free)/(1<<30), dir, need>>30))
		}
		return nil
	}
	return nil
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return lastLines(string(b), n)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}
