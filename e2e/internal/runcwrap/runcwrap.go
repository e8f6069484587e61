// Package runcwrap edits OCI runtime files so that runc does not ask for a
// capability the machine's bounding set lacks (see e2e/cmd/runcwrap).
package runcwrap

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// CapSysResource is the capability restricted VMs withhold (bit 24).
const (
	CapSysResource     = "CAP_SYS_RESOURCE"
	capSysResourceBit  = 24
	statusCapBndPrefix = "CapBnd:"
)

// BoundingSetHas reports whether this process's capability bounding set
// holds capability name (only CAP_SYS_RESOURCE is known). When the set
// cannot be read it answers true: runc is then left alone.
func BoundingSetHas(name string) bool {
	if name != CapSysResource {
		return true
	}
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return true
	}
	has, ok := capBndHas(string(data), capSysResourceBit)
	return !ok || has
}

// capBndHas reads the CapBnd line of /proc/<pid>/status.
func capBndHas(status string, bit uint) (has, ok bool) {
	for _, line := range strings.Split(status, "\n") {
		if v, found := strings.CutPrefix(line, statusCapBndPrefix); found {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return false, false
			}
			return mask&(1<<bit) != 0, true
		}
	}
	return false, false
}

// Rewrite removes CAP_SYS_RESOURCE from the files runc will read for this
// command line: <bundle>/config.json for create and run (--bundle/-b, or the
// working directory), the --process/-p file for exec.
func Rewrite(args []string) error {
	cmd, rest := subcommand(args)
	switch cmd {
	case "create", "run":
		bundle := flagValue(rest, "--bundle", "-b")
		if bundle == "" {
			bundle = "."
		}
		return editFile(filepath.Join(bundle, "config.json"), "process", "capabilities")
	case "exec":
		if p := flagValue(rest, "--process", "-p"); p != "" {
			return editFile(p, "capabilities")
		}
	}
	return nil
}

// globalWithValue are runc's global flags that take a separate value.
var globalWithValue = []string{"--root", "--log", "--log-format", "--criu", "--rootless"}

// subcommand skips runc's global flags and returns the command and its args.
func subcommand(args []string) (string, []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return a, args[i+1:]
		}
		if !strings.Contains(a, "=") && slices.Contains(globalWithValue, a) {
			i++
		}
	}
	return "", nil
}

// flagValue finds --name value, --name=value, -n value.
func flagValue(args []string, long, short string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, long+"="); ok {
			return v
		}
		if (a == long || a == short) && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// editFile drops CAP_SYS_RESOURCE from every list of the capabilities
// object found at path (keys leading to it), keeping every other field.
func editFile(file string, path ...string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if !DropCapability(doc, CapSysResource, path...) {
		return nil
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		return err
	}
	return os.WriteFile(file, out, fi.Mode().Perm())
}

// DropCapability removes capability from the bounding, effective,
// inheritable, permitted and ambient lists of the object at path in doc.
// It reports whether anything changed.
func DropCapability(doc map[string]any, capability string, path ...string) bool {
	obj := doc
	for _, k := range path {
		next, ok := obj[k].(map[string]any)
		if !ok {
			return false
		}
		obj = next
	}
	changed := false
	for _, set := range []string{"bounding", "effective", "inheritable", "permitted", "ambient"} {
		list, ok := obj[set].([]any)
		if !ok {
			continue
		}
		kept := list[:0:0]
		for _, c := range list {
			if c == capability {
				changed = true
				continue
			}
			kept = append(kept, c)
		}
		obj[set] = kept
	}
	return changed
}
