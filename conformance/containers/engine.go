// Package containers is the only package that talks to the Docker Engine
// while cells run: isolated networks, sandboxed containers, their exit codes
// and output, readiness, and the cleanup of everything the suite created.
// Docker's own types stay inside this package (STYLE.md: "keep Docker types
// in one place"), so a testcontainers-go or moby upgrade touches one file.
package containers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Labels put on every container and network the suite creates, so that a
// run can find and remove its own, and the next run can sweep what a killed
// run left behind.
const (
	LabelSuite = "io.interop-suite"       // always "1"
	LabelRun   = "io.interop-suite.run"   // the run's id
	LabelOwner = "io.interop-suite.owner" // "<pid>:<process start time>" of the creating process
	LabelCell  = "io.interop-suite.cell"  // the cell's id, for people reading `docker ps`
)

// Engine is a connection to the Docker Engine on behalf of one run.
type Engine struct {
	cli   *testcontainers.DockerClient
	RunID string
	owner string
}

// New connects to Docker. Ryuk is disabled: the suite removes what it
// creates itself (STYLE.md, testcontainers-go #2172).
func New(ctx context.Context, runID string) (*Engine, error) {
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to Docker: %w (is the Docker Engine running and is DOCKER_HOST right?)", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(pctx, client.PingOptions{}); err != nil {
		return nil, fmt.Errorf("Docker Engine is not reachable: %w (start it, e.g. `sudo service docker start`)", err)
	}
	return &Engine{cli: cli, RunID: runID, owner: ownerID(os.Getpid())}, nil
}

// Close releases the client.
func (e *Engine) Close() error { return e.cli.Close() }

func (e *Engine) labels(cell string) map[string]string {
	l := map[string]string{LabelSuite: "1", LabelRun: e.RunID, LabelOwner: e.owner}
	if cell != "" {
		l[LabelCell] = cell
	}
	return l
}

// ownerID identifies a process across pid reuse: its pid plus its start
// time (field 22 of /proc/<pid>/stat).
func ownerID(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return strconv.Itoa(pid) + ":?"
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		f := strings.Fields(s[i+1:])
		if len(f) > 19 {
			return strconv.Itoa(pid) + ":" + f[19]
		}
	}
	return strconv.Itoa(pid) + ":?"
}

// ownerAlive reports whether the process that created a resource still runs.
// Unknown owners count as alive: never remove what might be in use.
func ownerAlive(owner string) bool {
	pidText, _, ok := strings.Cut(owner, ":")
	pid, err := strconv.Atoi(pidText)
	if !ok || err != nil {
		return true
	}
	if _, err := os.Stat("/proc/" + pidText); errors.Is(err, os.ErrNotExist) {
		return false
	}
	return ownerID(pid) == owner
}

// Sweep removes containers and networks that carry the suite's labels and
// whose creating process is gone: the leftovers of a run killed with -9.
// Resources of runs still in progress (e.g. concurrent shards) are kept.
func (e *Engine) Sweep(ctx context.Context) (containers, networks int, err error) {
	f := client.Filters{}.Add("label", LabelSuite+"=1")
	list, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return 0, 0, fmt.Errorf("list leftover containers: %w", err)
	}
	for _, c := range list.Items {
		if c.Labels[LabelRun] == e.RunID || ownerAlive(c.Labels[LabelOwner]) {
			continue
		}
		if _, err := e.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err == nil {
			containers++
		}
	}
	nets, err := e.cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return containers, 0, fmt.Errorf("list leftover networks: %w", err)
	}
	var errs []error
	for _, n := range nets.Items {
		if n.Labels[LabelRun] == e.RunID || ownerAlive(n.Labels[LabelOwner]) {
			continue
		}
		switch err := e.removeNetwork(ctx, n.ID); {
		case err == nil:
			networks++
		case !isNotFound(err): // another run's sweep may have been first
			errs = append(errs, fmt.Errorf("remove leftover network %s: %w", n.Name, err))
		}
	}
	return containers, networks, errors.Join(errs...)
}

// removeNetwork removes a network, retrying for a few seconds while the
// engine still lists endpoints of containers just removed with force.
func (e *Engine) removeNetwork(ctx context.Context, id string) error {
	var err error
	for range 20 {
		if _, err = e.cli.NetworkRemove(ctx, id, client.NetworkRemoveOptions{}); err == nil || !strings.Contains(err.Error(), "active endpoints") {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return err
}

func isNotFound(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "not found") || strings.Contains(err.Error(), "No such"))
}

// RemoveRun removes every container and network of this run (end of the
// run, or Ctrl-C), and reports how many it found. Only call it when every
// process of the run is done; a process on its own uses RemoveOwned.
func (e *Engine) RemoveRun(ctx context.Context) (containers, networks int, err error) {
	return e.remove(ctx, client.Filters{}.Add("label", LabelRun+"="+e.RunID))
}

// RemoveOwned removes what this process of the run created.
func (e *Engine) RemoveOwned(ctx context.Context) (containers, networks int, err error) {
	return e.remove(ctx, client.Filters{}.Add("label", LabelRun+"="+e.RunID).Add("label", LabelOwner+"="+e.owner))
}

func (e *Engine) remove(ctx context.Context, f client.Filters) (containers, networks int, err error) {
	list, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return 0, 0, err
	}
	var errs []error
	for _, c := range list.Items {
		if _, err := e.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			errs = append(errs, err)
		} else {
			containers++
		}
	}
	nets, err := e.cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return containers, 0, err
	}
	for _, n := range nets.Items {
		if err := e.removeNetwork(ctx, n.ID); err != nil && !isNotFound(err) {
			errs = append(errs, err)
		} else {
			networks++
		}
	}
	return containers, networks, errors.Join(errs...)
}

// Count returns how many containers, networks and volumes with the suite's
// label exist (all runs); the leak tests assert it is zero.
func (e *Engine) Count(ctx context.Context) (containers, networks, volumes int, err error) {
	f := client.Filters{}.Add("label", LabelSuite+"=1")
	list, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return 0, 0, 0, err
	}
	nets, err := e.cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return 0, 0, 0, err
	}
	vols, err := e.cli.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return 0, 0, 0, err
	}
	return len(list.Items), len(nets.Items), len(vols.Items), nil
}

// MarkRunning creates this run's marker: an empty network labelled with the
// run and its owner process, which lives as long as the run. Other runs
// look for live markers before they prune images a run may still use.
func (e *Engine) MarkRunning(ctx context.Context) error {
	_, err := e.cli.NetworkCreate(ctx, "interop-run-"+e.RunID, client.NetworkCreateOptions{Internal: true, Labels: e.labels("")})
	if err != nil {
		return fmt.Errorf("create the run marker: %w", err)
	}
	return nil
}

// OtherRunsAlive reports whether another run of the suite is in progress
// on this Docker Engine (its marker exists and its owner process lives).
func (e *Engine) OtherRunsAlive(ctx context.Context) (bool, error) {
	f := client.Filters{}.Add("label", LabelSuite+"=1")
	nets, err := e.cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return true, err
	}
	for _, n := range nets.Items {
		if n.Labels[LabelRun] != e.RunID && ownerAlive(n.Labels[LabelOwner]) {
			return true, nil
		}
	}
	return false, nil
}
