package main

import (
	"github.com/spf13/cobra"
	"github.com/tpago/tpago/platforms/docker"
)

func init() { commands = append(commands, newImageCmd) }

func newImageCmd() *cobra.Command {
	img := &cobra.Command{
		Use:   "image",
		Short: "Manage the container images of the docker platform",
	}
	var opts docker.ImageOptions
	build := &cobra.Command{
		Use:   "build",
		Short: "Build the Debian image for docker clusters (debootstrap, then import into Docker)",
		Long: `Build tpago/<distribution>:<version> locally: debootstrap a minimal Debian
with systemd, openssh-server, sudo and python3, then import it into the
Docker engine. The mirror is read from the machine's apt sources unless
--mirror is given. An existing image is kept unless --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cli, err := docker.NewClient(ctx)
			if err != nil {
				return err
			}
			defer cli.Close()
			opts.Out = cmd.OutOrStdout()
			_, _, err = docker.BuildImage(ctx, cli, opts)
			return err
		},
	}
	build.Flags().StringVar(&opts.Distribution, "distribution", "debian", "distribution of the image")
	build.Flags().StringVar(&opts.Version, "os-version", "12", "version of the distribution")
	build.Flags().StringVar(&opts.Mirror, "mirror", "", "Debian mirror URL (default: from the machine's apt sources)")
	build.Flags().BoolVar(&opts.Force, "force", false, "rebuild the image even if it exists")
	img.AddCommand(build)
	return img
}
