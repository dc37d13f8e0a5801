package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestLowDiskIsTheMachinesFault(t *testing.T) {
	t.Setenv("INTEROP_MIN_FREE_GIB", "1000000") // no disk has a petabyte free
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	_, _, err := BuildImage(context.Background(), Build{Name: "lowdisk", Dir: dir, Dockerfile: "Dockerfile"}, filepath.Join(dir, "log"), io.Discard)
	if err == nil || !IsInfra(err) {
		t.Fatalf("a build refused for lack of disk must be an infrastructure error, got %v", err)
	}
}

func TestInfraMarking(t *testing.T) {
	base := errors.New("boom")
	if IsInfra(base) || IsInfra(nil) || Infra(nil) != nil {
		t.Fatal("only marked errors are infrastructure errors")
	}
	wrapped := fmt.Errorf("build: %w", Infra(base))
	if !IsInfra(wrapped) || !errors.Is(wrapped, base) || wrapped.Error() != "build: boom" {
		t.Fatalf("marking must keep the error's text and chain: %v", wrapped)
	}
	if !isMachineTrouble("step 3: write /x: no space left on device") || isMachineTrouble("E: Unable to locate package foo") {
		t.Fatal("machine trouble is recognised by the build log")
	}
}

func TestSystemPathComesFirst(t *testing.T) {
	got := systemPath([]string{"HOME=/root", "PATH=/root/.pyenv/shims:/usr/bin"})
	if got[0] != "HOME=/root" || got[1] != "PATH=/usr/sbin:/usr/bin:/sbin:/bin:/root/.pyenv/shims:/usr/bin" {
		t.Fatalf("got %q", got)
	}
	if got := systemPath(nil); len(got) != 1 || got[0] != "PATH=/usr/sbin:/usr/bin:/sbin:/bin" {
		t.Fatalf("got %q", got)
	}
}
