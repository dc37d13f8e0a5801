package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/testcontainers/testcontainers-go"
)

// HashDir is the content hash of a folder: every regular file's relative
// path, mode and bytes, in sorted order, plus the extra strings (e.g. the
// base image tag). Files the folder's .dockerignore excludes are skipped,
// exactly as they are left out of the build context, so a local build
// folder (Rust's target/) never causes a rebuild; so are .git folders.
func HashDir(dir string, extra ...string) (string, error) {
	h := sha256.New()
	for _, e := range extra {
		fmt.Fprintf(h, "extra %q\n", e)
	}
	ignore, err := dockerignore(dir)
	if err != nil {
		return "", err
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if rel != "." && ignore != nil {
			if skip, _ := ignore.MatchesOrParentMatches(filepath.ToSlash(rel)); skip {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		if d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", dir, err)
	}
	sort.Strings(files)
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		st, err := os.Lstat(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "file %q %o\n", filepath.ToSlash(rel), st.Mode()&0o111)
		if st.Mode()&fs.ModeSymlink != 0 {
			t, _ := os.Readlink(p)
			fmt.Fprintf(h, "link %q\n", t)
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// dockerignore reads the folder's .dockerignore, if any.
func dockerignore(dir string) (*patternmatcher.PatternMatcher, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s/.dockerignore: %w", dir, err)
	}
	return patternmatcher.New(patterns)
}

// Build is one implementation image to build from a folder's Dockerfile.
type Build struct {
	Name       string // implementation name
	Dir        string // build context
	Dockerfile string // relative to Dir
	BaseTag    string // passed as --build-arg BASE; empty when no toolchain
}

// Repo is the image repository of an implementation.
func Repo(name string) string { return "interop/impl-" + name }

// Tag computes the content-addressed tag without building.
func (b Build) Tag() (string, error) {
	h, err := HashDir(b.Dir, b.Dockerfile, b.BaseTag)
	if err != nil {
		return "", err
	}
	return Repo(b.Name) + ":" + h, nil
}

// BuildImage builds the image unless one with the same content hash exists.
// The full build log goes to logPath; a failure returns its last lines,
// because a broken Dockerfile is the implementation's fault and its
// students need to see why.
func BuildImage(ctx context.Context, b Build, logPath string, progress io.Writer) (tag string, built bool, err error) {
	tag, err = b.Tag()
	if err != nil {
		return "", false, err
	}
	if ImageExists(ctx, tag) {
		return tag, false, nil
	}
	if err := checkFreeDisk(); err != nil {
		return "", false, fmt.Errorf("build image %s: %w", tag, err)
	}
	fmt.Fprintf(progress, "image %-10s building %s\n", b.Name, tag)
	start := time.Now()
	os.MkdirAll(filepath.Dir(logPath), 0o755)
	logf, err := os.Create(logPath)
	if err != nil {
		return "", false, err
	}
	defer logf.Close()
	prov, err := testcontainers.NewDockerProvider()
	if err != nil {
		return "", false, Infra(fmt.Errorf("build image %s: %w", tag, err))
	}
	defer prov.Close()
	repo, version, _ := strings.Cut(tag, ":")
	args := map[string]*string{}
	if b.BaseTag != "" {
		args["BASE"] = &b.BaseTag
	}
	req := &testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		Context:        b.Dir,
		Dockerfile:     b.Dockerfile,
		Repo:           repo,
		Tag:            version,
		BuildArgs:      args,
		BuildLogWriter: logf,
		KeepImage:      true,
	}}
	if _, err := prov.BuildImage(ctx, req); err != nil {
		logf.Sync()
		tail := tailFile(logPath, 20)
		err = fmt.Errorf("docker build of %s failed: %w\nlast lines of the build log (%s):\n%s", b.Dir, err, logPath, tail)
		if isMachineTrouble(err.Error()) {
			err = Infra(err)
		}
		return "", false, err
	}
	fmt.Fprintf(progress, "image %-10s built in %s\n", b.Name, time.Since(start).Round(100*time.Millisecond))
	logf.Sync()
	removeStageImages(ctx, logPath)
	return tag, true, nil
}

// PruneOldTags removes the other tags of a repository, so images of earlier
// versions of an implementation do not pile up. Only call it when no other
// run is alive: a concurrent run (another shard, a student's run of an older
// checkout) may be using an older tag.
func PruneOldTags(ctx context.Context, repo, keep string) {
	out, err := exec.CommandContext(ctx, "docker", "image", "ls", "--format", "{{.Tag}}", repo).Output()
	if err != nil {
		return
	}
	for _, t := range strings.Fields(string(out)) {
		if t != keep && t != "latest" && t != "<none>" {
			exec.CommandContext(ctx, "docker", "rmi", repo+":"+t).Run()
		}
	}
}

// GoImage is a FROM scratch image holding static Go binaries of this
// module (the reference and the network simulator).
type GoImage struct {
	Repo     string            // e.g. "interop/reference"
	Binaries map[string]string // path in the image -> Go package, e.g. "/rudp": "./reference/cmd/rudp"
	ModRoot  string            // the module's root folder
}

// BuildGoImage compiles the binaries with CGO off and builds the image,
// tagged by the hash of the binaries, unless it exists.
func BuildGoImage(ctx context.Context, g GoImage, workDir string, progress io.Writer) (string, error) {
	ctxDir, err := os.MkdirTemp(workDir, "goimage-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(ctxDir)
	var paths []string
	for p := range g.Binaries {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	dockerfile := "FROM scratch\n"
	for _, p := range paths {
		name := strings.TrimPrefix(p, "/")
		if err := BuildGoBinary(ctx, g.ModRoot, g.Binaries[p], filepath.Join(ctxDir, name)); err != nil {
			return "", err
		}
		dockerfile += fmt.Sprintf("COPY %s %s\n", name, p)
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return "", err
	}
	hash, err := HashDir(ctxDir)
	if err != nil {
		return "", err
	}
	tag := g.Repo + ":" + hash
	if ImageExists(ctx, tag) {
		return tag, nil
	}
	fmt.Fprintf(progress, "image %-10s building %s\n", filepath.Base(g.Repo), tag)
	if err := docker(ctx, nil, io.Discard, "build", "-q", "--force-rm", "-t", tag, ctxDir); err != nil {
		return "", fmt.Errorf("build image %s: %w", tag, err)
	}
	return tag, nil
}

// PruneExcept removes, for every repository of the given tags, all other
// tags (see PruneOldTags for when this is safe).
func PruneExcept(ctx context.Context, tags []string) {
	for _, t := range tags {
		if repo, version, ok := strings.Cut(t, ":"); ok {
			PruneOldTags(ctx, repo, version)
		}
	}
}

// BuildGoBinary compiles one static binary of this module to out.
func BuildGoBinary(ctx context.Context, modRoot, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = modRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}
