// Package aws is the aws platform: each instance is an EC2 instance in the
// cluster's own VPC (or the one config.yml names), with a subnet per
// location, an internet gateway so that SSH reaches the hosts, a security
// group made from cluster_rules and the cluster's SSH key as a key pair.
//
// Everything the platform makes carries the tag tpago.cluster=<cluster>:
// provisioning again finds it and makes nothing new, and deprovisioning
// removes exactly what carries the tag. Credentials come from the AWS SDK's
// standard chain (environment, shared config and credentials files, SSO,
// instance role).
package aws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/tpago/tpago/platforms"
)

// Tags put on everything the platform makes.
const (
	TagCluster  = "tpago.cluster"
	TagInstance = "tpago.instance"
)

// Debian's own AMIs: the default when config.yml names none.
const (
	DebianOwner = "136693071363"
	DebianName  = "debian-12-amd64-*"
)

// Provisioner is the aws platform. The zero value uses the SDK's standard
// credential chain and waits for real hosts; tests replace the client
// maker and the SSH wait.
type Provisioner struct {
	// Client makes the EC2 client of a region (the SDK's default
	// configuration when nil).
	Client func(ctx context.Context, region string) (*ec2.Client, error)
	// WaitSSH returns once something accepts TCP connections at address
	// (host:port); nil dials until it does.
	WaitSSH func(ctx context.Context, address string) error
	// Poll is the pause between two looks at instances that are starting
	// or stopping (5 seconds when 0).
	Poll time.Duration
	// BootWait bounds the wait for an instance to run, answer on port 22
	// and print its host keys (10 minutes when 0).
	BootWait time.Duration
	// DeleteWait bounds each wait of Deprovision: for the instances to
	// terminate, and for each resource EC2 still says is in use (10
	// minutes when 0).
	DeleteWait time.Duration
}

var (
	_ platforms.Provisioner   = (*Provisioner)(nil)
	_ platforms.Validator     = (*Provisioner)(nil)
	_ platforms.Deprovisioner = (*Provisioner)(nil)
)

func init() { platforms.Register("aws", &Provisioner{}) }

func (p *Provisioner) poll() time.Duration {
	if p.Poll > 0 {
		return p.Poll
	}
	return 5 * time.Second
}

func (p *Provisioner) bootWait() time.Duration {
	if p.BootWait > 0 {
		return p.BootWait
	}
	return 10 * time.Minute
}

func (p *Provisioner) deleteWait() time.Duration {
	if p.DeleteWait > 0 {
		return p.DeleteWait
	}
	return 10 * time.Minute
}

// Validate checks the EC2 settings of config.yml before anything is made.
func (p *Provisioner) Validate(_ context.Context, c *platforms.Cluster) error {
	_, err := makePlan(c)
	return err
}

func (p *Provisioner) client(ctx context.Context, region string) (*ec2.Client, error) {
	if p.Client != nil {
		return p.Client(ctx, region)
	}
	return DefaultClient(ctx, region)
}

// DefaultClient is an EC2 client for region with the SDK's standard
// configuration; it checks that credentials can be had.
func DefaultClient(ctx context.Context, region string) (*ec2.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(cctx); err != nil {
		return nil, fmt.Errorf("no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws configure` / `aws sso login`): %w", err)
	}
	return ec2.NewFromConfig(cfg), nil
}

func (p *Provisioner) waitSSH(ctx context.Context, addr string) error {
	if p.WaitSSH != nil {
		return p.WaitSSH(ctx, addr)
	}
	var d net.Dialer
	for {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		cn, err := d.DialContext(dctx, "tcp", addr)
		cancel()
		if err == nil {
			cn.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("port 22 does not answer: %w", err)
		case <-time.After(p.poll()):
		}
	}
}

// errCode is the EC2 error code of err ("" when it has none).
func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// retry calls f until it succeeds, fails with an error retryable does not
// accept, or wait has passed. EC2 is eventually consistent: a VPC just
// made may not be found for a moment, a security group stays in use until
// the network interfaces of terminated instances are gone.
func (p *Provisioner) retry(ctx context.Context, wait time.Duration, retryable func(code string) bool, f func() error) error {
	deadline := time.Now().Add(wait)
	for {
		err := f()
		if err == nil || !retryable(errCode(err)) || time.Now().After(deadline) {
			return err
		}
		if err := sleep(ctx, p.poll()); err != nil {
			return err
		}
	}
}

func notFound(code string) bool {
	return len(code) > 9 && code[len(code)-9:] == ".NotFound"
}

func inUse(code string) bool { return code == "DependencyViolation" }

func tagFilterName(k string) *string { return aws.String("tag:" + k) }
