package docker

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// Packages are what the image carries besides debootstrap's minbase.
var Packages = []string{
	"systemd", "systemd-sysv", "dbus", "openssh-server", "sudo", "iproute2",
	"procps", "ca-certificates", "gnupg", "python3",
}

// CacheDir keeps debootstrap's package tarballs between builds.
var CacheDir = "/var/cache/tpago"

// ImageOptions say which image to build.
type ImageOptions struct {
	Distribution string // "debian" (the default)
	Version      string // "12" (the default)
	// Mirror is the Debian mirror; "" reads it from the machine's apt sources.
	Mirror string
	// Force rebuilds the image even when it exists.
	Force bool
	// Out receives progress lines.
	Out io.Writer
}

var codenames = map[string]string{"11": "bullseye", "12": "bookworm", "13": "trixie"}

// ImageName is the name of the image for a distribution and version.
func ImageName(distribution, version string) string {
	if distribution == "" {
		distribution = "debian"
	}
	if version == "" {
		version = "12"
	}
	return "tpago/" + distribution + ":" + version
}

// Buildable says whether tpago can build the image name, and how.
func Buildable(name string) (ImageOptions, bool) {
	dist, ver, ok := strings.Cut(strings.TrimPrefix(name, "tpago/"), ":")
	if !strings.HasPrefix(name, "tpago/") || !ok || dist != "debian" || codenames[ver] == "" {
		return ImageOptions{}, false
	}
	return ImageOptions{Distribution: dist, Version: ver}, true
}

// Recipe is the version of the way tpago builds its images; an image made
// by an older recipe is rebuilt.
const Recipe = "2"

// LabelRecipe carries Recipe on the images tpago builds.
const LabelRecipe = "tpago.image.recipe"

// ImageExists says whether the engine has the image, and for an image
// tpago builds, whether it was built by the current Recipe.
func ImageExists(ctx context.Context, cli *client.Client, name string) (bool, error) {
	img, err := cli.ImageInspect(ctx, name)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return false, nil
		}
		return false, daemonError(err)
	}
	if _, ours := Buildable(name); ours && (img.Config == nil || img.Config.Labels[LabelRecipe] != Recipe) {
		return false, nil
	}
	return true, nil
}

// BuildImage makes a Debian image locally: debootstrap a root filesystem
// with systemd and sshd, then import it into Docker. An existing image is
// kept unless opts.Force. It returns the image name and whether it built it.
func BuildImage(ctx context.Context, cli *client.Client, opts ImageOptions) (string, bool, error) {
	if opts.Distribution == "" {
		opts.Distribution = "debian"
	}
	if opts.Version == "" {
		opts.Version = "12"
	}
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	name := ImageName(opts.Distribution, opts.Version)
	if opts.Distribution != "debian" {
		return name, false, fmt.Errorf("distribution %q: tpago builds debian images only", opts.Distribution)
	}
	suite := codenames[opts.Version]
	if suite == "" {
		return name, false, fmt.Errorf("debian version %q: tpago knows 11, 12 and 13", opts.Version)
	}
	exists, err := ImageExists(ctx, cli, name)
	if err != nil {
		return name, false, err
	}
	if !exists || opts.Force {
		// One build at a time on this machine: whoever waited finds the
		// image made.
		unlock, err := lockBuild(ctx, out, name)
		if err != nil {
			return name, false, err
		}
		defer unlock()
		if exists, err = ImageExists(ctx, cli, name); err != nil {
			return name, false, err
		}
	}
	if exists && !opts.Force {
		fmt.Fprintf(out, "image %s: present (--force rebuilds it)\n", name)
		return name, false, nil
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return name, false, fmt.Errorf("image %s is built with debootstrap, which is not installed: run `sh scripts/setup.sh` (or apt-get install debootstrap)", name)
	}
	if os.Geteuid() != 0 {
		return name, false, fmt.Errorf("image %s: debootstrap needs root", name)
	}
	mirror := opts.Mirror
	var security string
	if mirror == "" {
		mirror, security, err = MachineMirror()
		if err != nil {
			return name, false, err
		}
	}
	start := time.Now()
	fmt.Fprintf(out, "image %s: building from %s (%s), this takes a minute\n", name, mirror, suite)

	if err := os.MkdirAll(CacheDir, 0o755); err != nil {
		return name, false, err
	}
	sum := sha256.Sum256([]byte(suite + "\n" + mirror + "\n" + strings.Join(Packages, ",")))
	tarball := filepath.Join(CacheDir, fmt.Sprintf("debootstrap-%s-%s.tar", suite, hex.EncodeToString(sum[:6])))
	work, err := os.MkdirTemp("/var/tmp", "tpago-image-")
	if err != nil {
		return name, false, err
	}
	defer os.RemoveAll(work)
	args := []string{"--variant=minbase", "--include=" + strings.Join(Packages, ",")}
	if _, err := os.Stat(tarball); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(out, "image %s: downloading packages into %s\n", name, tarball)
		tmp := tarball + ".part"
		a := append(append([]string{}, args...), "--make-tarball="+tmp, suite, filepath.Join(work, "dl"), mirror)
		if err := runLogged(ctx, out, name, "debootstrap", a...); err != nil {
			os.Remove(tmp)
			return name, false, err
		}
		if err := os.Rename(tmp, tarball); err != nil {
			return name, false, err
		}
	} else {
		fmt.Fprintf(out, "image %s: using cached packages %s\n", name, tarball)
	}
	rootfs := filepath.Join(work, "rootfs")
	a := append(append([]string{}, args...), "--unpack-tarball="+tarball, suite, rootfs, mirror)
	if err := runLogged(ctx, out, name, "debootstrap", a...); err != nil {
		return name, false, fmt.Errorf("%w (if the cached packages are stale, remove %s)", err, tarball)
	}
	if err := finishRootfs(rootfs, suite, mirror, security); err != nil {
		return name, false, err
	}
	var oldID string
	if img, err := cli.ImageInspect(ctx, name); err == nil {
		oldID = img.ID
	}
	fmt.Fprintf(out, "image %s: importing into Docker\n", name)
	if err := importRootfs(ctx, cli, rootfs, name); err != nil {
		return name, false, err
	}
	if oldID != "" {
		// The image it replaces goes too, unless containers still use it.
		_, _ = cli.ImageRemove(ctx, oldID, image.RemoveOptions{PruneChildren: true})
	}
	fmt.Fprintf(out, "image %s: built in %s\n", name, time.Since(start).Round(time.Second))
	return name, true, nil
}

// runLogged runs a command, showing its progress as one line per stage.
func runLogged(ctx context.Context, out io.Writer, name, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	var tail []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		stage, n := "", 0
		last := time.Now()
		perPackage := map[string]bool{"Retrieving": true, "Validating": true, "Extracting": true, "Unpacking": true, "Configuring": true}
		for sc.Scan() {
			line := sc.Text()
			tail = append(tail, line)
			if len(tail) > 20 {
				tail = tail[1:]
			}
			msg, ok := strings.CutPrefix(line, "I: ")
			if !ok {
				continue
			}
			verb, _, _ := strings.Cut(msg, " ")
			if verb == "Validating" {
				continue
			}
			if !perPackage[verb] {
				stage = ""
				fmt.Fprintf(out, "image %s: %s: %s\n", name, bin, strings.TrimSpace(msg))
				continue
			}
			n++
			if verb != stage {
				stage, n = verb, 1
				fmt.Fprintf(out, "image %s: %s: %s packages...\n", name, bin, verb)
				last = time.Now()
			} else if time.Since(last) > 5*time.Second {
				fmt.Fprintf(out, "image %s: %s: %s packages: %d so far\n", name, bin, verb, n)
				last = time.Now()
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	err := cmd.Run()
	pw.Close()
	<-done
	if err != nil {
		return fmt.Errorf("%s failed: %v\n%s", bin, err, strings.Join(tail, "\n"))
	}
	return nil
}

// MachineMirror reads the Debian mirror (and the security mirror, when
// there is one) from the machine's apt sources.
func MachineMirror() (mirror, security string, err error) {
	var uris []string
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "URIs:"); ok {
				uris = append(uris, strings.Fields(v)...)
			}
		}
	}
	lists, _ := filepath.Glob("/etc/apt/sources.list.d/*.list")
	for _, f := range append([]string{"/etc/apt/sources.list"}, lists...) {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			fl := strings.Fields(line)
			if len(fl) < 3 || fl[0] != "deb" {
				continue
			}
			i := 1
			if strings.HasPrefix(fl[1], "[") {
				for i < len(fl) && !strings.HasSuffix(fl[i], "]") {
					i++
				}
				i++
			}
			if i < len(fl) {
				uris = append(uris, fl[i])
			}
		}
	}
	for _, u := range uris {
		switch {
		case strings.Contains(u, "security"):
			if security == "" {
				security = u
			}
		case mirror == "" && strings.Contains(u, "debian"):
			mirror = u
		}
	}
	if mirror == "" {
		return "", "", errors.New("no Debian mirror in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list: give one with --mirror URL")
	}
	return mirror, security, nil
}

// finishRootfs makes the root filesystem a container image: no SSH host
// keys (each container makes its own at boot), apt sources, no machine id.
func finishRootfs(rootfs, suite, mirror, security string) error {
	keys, _ := filepath.Glob(filepath.Join(rootfs, "etc/ssh/ssh_host_*"))
	for _, k := range keys {
		if err := os.Remove(k); err != nil {
			return err
		}
	}
	sources := fmt.Sprintf("Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n", mirror, suite, suite)
	if security != "" {
		sources += fmt.Sprintf("\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n", security, suite)
	}
	files := map[string]string{
		"etc/apt/sources.list.d/debian.sources": sources,
		"etc/apt/sources.list":                  "",
		// Every container makes its own host key before sshd first starts:
		// ed25519 only, which takes no time (RSA can take seconds on a
		// busy machine).
		"etc/systemd/system/ssh.service.d/tpago-host-keys.conf": "[Service]\nExecStartPre=\n" +
			"ExecStartPre=/bin/sh -c 'test -s /etc/ssh/ssh_host_ed25519_key || exec /usr/bin/ssh-keygen -q -t ed25519 -N \"\" -f /etc/ssh/ssh_host_ed25519_key'\n" +
			"ExecStartPre=/usr/sbin/sshd -t\n",
		"etc/ssh/sshd_config.d/tpago-host-keys.conf": "HostKey /etc/ssh/ssh_host_ed25519_key\n",
		"etc/machine-id": "",
		"etc/hostname":   "",
	}
	for f, content := range files {
		p := filepath.Join(rootfs, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	debs, _ := filepath.Glob(filepath.Join(rootfs, "var/cache/apt/archives/*.deb"))
	for _, d := range debs {
		_ = os.Remove(d)
	}
	return nil
}

// importRootfs streams the root filesystem as a tar into Docker's image
// import, with /sbin/init as the command.
func importRootfs(ctx context.Context, cli *client.Client, rootfs, name string) error {
	cmd := exec.CommandContext(ctx, "tar", "--numeric-owner", "-C", rootfs, "-c", ".")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	rc, err := cli.ImageImport(ctx, image.ImportSource{Source: stdout, SourceName: "-"}, name,
		image.ImportOptions{Changes: []string{`CMD ["/sbin/init"]`, `LABEL tpago.image=` + name + ` ` + LabelRecipe + `=` + Recipe}, Message: "tpago image build"})
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("import image %s: %w", name, daemonError(err))
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); err != nil {
			if err == io.EOF {
				break
			}
			return fmt.Errorf("import image %s: %w", name, err)
		}
		if msg.Error != "" {
			return fmt.Errorf("import image %s: %s", name, msg.Error)
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("tar %s: %v: %s", rootfs, err, stderr.String())
	}
	return nil
}

// lockBuild takes the machine-wide image build lock (CacheDir/build.lock).
func lockBuild(ctx context.Context, out io.Writer, name string) (func(), error) {
	if err := os.MkdirAll(CacheDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(CacheDir, "build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	said := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		if !said {
			fmt.Fprintf(out, "image %s: another build is running, waiting for it\n", name)
			said = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
