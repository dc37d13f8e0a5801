package main

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// bringCell makes a shard's cell folder available under the merged results
// folder, at the same relative path, so the merged report's links and
// traces work. Files are hard-linked when both folders are on one file
// system (a merge of a large run costs no space) and copied otherwise.
// Only regular files are brought: a symlink in a downloaded artifact could
// point anywhere. Nothing is done when the shard's folder is the output.
func bringCell(fromDir, toDir, artifacts string) error {
	if !filepath.IsLocal(filepath.FromSlash(artifacts)) {
		return errors.New("artifacts path leaves the results folder")
	}
	src := filepath.Join(fromDir, filepath.FromSlash(artifacts))
	dst := filepath.Join(toDir, filepath.FromSlash(artifacts))
	if same(src, dst) {
		return nil
	}
	if _, err := os.Lstat(src); errors.Is(err, fs.ErrNotExist) {
		return nil // the shard's artifact upload left the folder out: links will say so
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			if os.Link(p, target) == nil {
				return nil
			}
			return copyFile(p, target)
		}
		return nil
	})
}

func same(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	if err1 == nil && err2 == nil {
		return os.SameFile(sa, sb)
	}
	aa, _ := filepath.Abs(a)
	ab, _ := filepath.Abs(b)
	return aa == ab
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
