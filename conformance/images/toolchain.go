// Package images builds the container images the suite runs: the toolchain
// base images (one Debian package list each, under docker/toolchains), the
// implementation images built FROM them, and the static images of the Go
// reference and the network simulator. Every tag carries a content hash of its
// inputs, so an unchanged image is never rebuilt (libp2p test-plans' cache
// key, computed in this one place only).
package images

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Toolchain is one base image: a Debian suite and the packages installed in it.
type Toolchain struct {
	Name     string   // file name without .list, e.g. "python"
	Suite    string   // Debian suite, "bookworm" unless the list says "# suite: trixie"
	Packages []string // sorted, deduplicated
	Hash     string   // content hash of everything that goes into the image
}

// bootstrapVersion changes the hash of every base image when the way they are
// built changes (mmdebstrap options, image config), so stale images are not reused.
const bootstrapVersion = "base-v1"

var toolchainName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// LoadToolchain reads docker/toolchains/<name>.list. A list is one Debian
// package per line; '#' starts a comment; "# suite: NAME" picks the suite.
func LoadToolchain(dockerDir, name string) (Toolchain, error) {
	if !toolchainName.MatchString(name) {
		return Toolchain{}, fmt.Errorf("toolchain %q: name must match %s", name, toolchainName)
	}
	path := filepath.Join(dockerDir, "toolchains", name+".list")
	raw, err := os.ReadFile(path)
	if err != nil {
		return Toolchain{}, fmt.Errorf("toolchain %q: %w (known toolchains are the files docker/toolchains/*.list)", name, err)
	}
	tc := Toolchain{Name: name, Suite: "bookworm"}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if s, ok := strings.CutPrefix(line, "# suite:"); ok {
			tc.Suite = strings.TrimSpace(s)
			continue
		}
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" || seen[line] {
			continue
		}
		seen[line] = true
		tc.Packages = append(tc.Packages, line)
	}
	if len(tc.Packages) == 0 {
		return Toolchain{}, fmt.Errorf("toolchain %q: %s lists no packages", name, path)
	}
	sort.Strings(tc.Packages)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", bootstrapVersion, tc.Suite, strings.Join(tc.Packages, "\n"))
	tc.Hash = hex.EncodeToString(h.Sum(nil))[:16]
	return tc, nil
}

// Repo is the image repository of the toolchain's base image.
func (tc Toolchain) Repo() string { return "interop/base-" + tc.Name }

// Tag is the content-addressed reference of the base image.
func (tc Toolchain) Tag() string { return tc.Repo() + ":" + tc.Hash }

// ListToolchains returns the names of all docker/toolchains/*.list, sorted.
func ListToolchains(dockerDir string) ([]string, error) {
	m, err := filepath.Glob(filepath.Join(dockerDir, "toolchains", "*.list"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range m {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".list"))
	}
	sort.Strings(names)
	return names, nil
}
