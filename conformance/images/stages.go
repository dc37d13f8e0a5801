package images

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// The classic builder keeps the last image of every stage but the final
// one of a multi-stage Dockerfile (the "build" stage with the compiler's
// output) as an untagged, dangling image: 0.8 GB for Rust, 2.6 GB for
// Swift, one more every time an implementation is rebuilt. These are
// found in the build's own log and removed after it succeeds, so only
// this build's images are touched: a blanket `docker image prune` could
// delete a stage image another run is about to COPY --from.

var (
	stepFrom = regexp.MustCompile(`^Step \d+/\d+ : FROM `)
	stepID   = regexp.MustCompile(`^ ---> ([0-9a-f]{12,64})\s*$`)
)

// StageImages returns the IDs of the images that ended each stage but the
// last, in the order of the log (classic builder output).
func StageImages(log io.Reader) []string {
	var ids []string
	last := ""
	sc := bufio.NewScanner(log)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := stepID.FindStringSubmatch(line); m != nil {
			last = m[1]
			continue
		}
		if stepFrom.MatchString(line) {
			if last != "" {
				ids = append(ids, last)
			}
			last = ""
		}
	}
	return ids
}

// removeStageImages deletes the stage images a successful build left,
// unless they are tagged (a stage that is just `FROM base` ends with the
// base image itself) or still used by another image. Failures are
// ignored: a leftover image costs disk, not correctness.
func removeStageImages(ctx context.Context, logPath string) int {
	f, err := os.Open(logPath)
	if err != nil {
		return 0
	}
	defer f.Close()
	removed := 0
	for _, id := range StageImages(f) {
		out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{len .RepoTags}}", id).Output()
		if err != nil || strings.TrimSpace(string(out)) != "0" {
			continue
		}
		// No --force: Docker refuses an image that has children.
		if exec.CommandContext(ctx, "docker", "rmi", id).Run() == nil {
			removed++
		}
	}
	return removed
}
