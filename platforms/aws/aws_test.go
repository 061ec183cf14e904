package aws

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	clusterdir "github.com/tpago/tpago/cluster"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/platforms"
	"golang.org/x/crypto/ssh"
)

func TestMain(m *testing.M) {
	// Never ask the instance metadata service, nor read the user's files.
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Setenv("AWS_CONFIG_FILE", os.DevNull)
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	for _, k := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		os.Unsetenv(k)
	}
	os.Exit(m.Run())
}

// demoConfig is what `tpago configure --platform aws` writes (M1, repmgr).
const demoConfig = `architecture: M1
cluster_name: demo
cluster_tags:
  Owner: alice
cluster_vars:
  failover_manager: repmgr
  postgres_flavour: postgresql
  postgres_version: "15"
locations:
  - Name: main
  - Name: dr
instance_defaults:
  platform: aws
  type: t3.micro
  region: eu-west-1
  volumes:
    - device_name: root
      volume_size: 16
      volume_type: gp3
  vars:
    ansible_user: admin
ec2_vpc:
  eu-west-1:
    Name: demo
    cidr: 10.33.0.0/16
ec2_ami:
  Name: debian-12-amd64-*
  Owner: "136693071363"
ec2_vpc_subnets:
  eu-west-1:
    10.33.1.0/24:
      az: eu-west-1a
      location: main
    10.33.2.0/24:
      az: eu-west-1b
      location: dr
cluster_rules:
  - cidr_ip: 0.0.0.0/0
    proto: tcp
    from_port: 22
    to_port: 22
  - cidr_ip: 10.33.0.0/16
    proto: tcp
    from_port: 5432
    to_port: 5432
instances:
  - Name: pine
    node: 1
    location: main
    role: [primary]
    backup: coyote
    subnet: 10.33.1.0/24
  - Name: hornet
    node: 2
    location: main
    role: [replica]
    upstream: pine
    subnet: 10.33.1.0/24
  - Name: coyote
    node: 3
    location: dr
    role: [barman]
    subnet: 10.33.2.0/24
  - Name: wombat
    node: 4
    location: dr
    role: [replica]
    upstream: hornet
    subnet: 10.33.2.0/24
`

func consoleText(t *testing.T) string {
	data, err := os.ReadFile("testdata/console-debian12.txt")
	require.NoError(t, err)
	return string(data)
}

// cluster loads a config.yml written to a fresh directory, with a key pair
// as platforms.Provision makes it.
func cluster(t *testing.T, config string) (*platforms.Cluster, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yml"), []byte(config), 0o644))
	c, err := platforms.LoadCluster(dir)
	require.NoError(t, err)
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	sp, err := ssh.NewPublicKey(pub)
	require.NoError(t, err)
	c.PublicKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " tpago:" + c.Name
	c.KeyFile = filepath.Join(dir, "id_"+c.Name)
	var out bytes.Buffer
	c.Out = &out
	return c, &out
}

type sshWaits struct {
	mu    sync.Mutex
	addrs []string
}

func (w *sshWaits) wait(_ context.Context, addr string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.addrs = append(w.addrs, addr)
	return nil
}

func testProvisioner(f *fakeEC2, w *sshWaits) *Provisioner {
	return &Provisioner{
		Client: func(_ context.Context, region string) (*ec2.Client, error) {
			return ec2.New(ec2.Options{
				Region:           region,
				BaseEndpoint:     aws.String(f.srv.URL),
				Credentials:      credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret", ""),
				RetryMaxAttempts: 1,
				HTTPClient:       f.srv.Client(),
			}), nil
		},
		WaitSSH:    w.wait,
		Poll:       time.Millisecond,
		BootWait:   5 * time.Second,
		DeleteWait: 5 * time.Second,
	}
}

var createActions = []string{"CreateVpc", "CreateSubnet", "CreateInternetGateway", "AttachInternetGateway", "CreateRouteTable", "CreateRoute", "AssociateRouteTable", "CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "ImportKeyPair", "RunInstances", "StartInstances"}

func creates(actions []string) []string {
	var out []string
	for _, a := range actions {
		if slices.Contains(createActions, a) || strings.HasPrefix(a, "Create") || strings.HasPrefix(a, "Delete") || strings.HasPrefix(a, "Terminate") {
			out = append(out, a)
		}
	}
	return out
}

// tagsOf reads the tags of one resource type from a request.
func tagsOf(form url.Values, rt string) map[string]string { return tagsFor(form, rt) }

func TestProvisionMakesTheClusterOnceAndDeprovisionRemovesItAll(t *testing.T) {
	f := newFakeEC2(t)
	f.console = consoleText(t)
	// Somebody else's things in the same account: never touched.
	f.add("vpc", "vpc-0other00000000001", map[string]string{"Name": "prod"}, map[string]string{"cidr": "172.31.0.0/16"})
	f.add("subnet", "subnet-0other000000001", map[string]string{"Name": "prod-a"}, map[string]string{"cidr": "172.31.0.0/20", "vpc": "vpc-0other00000000001"})
	f.add("sg", "sg-0other000000000001", nil, map[string]string{"name": "default", "vpc": "vpc-0other00000000001"})
	f.add("key", "key-0other00000000001", map[string]string{TagCluster: "other"}, map[string]string{"name": "tpago-other"})
	f.add("instance", "i-0other000000000001", map[string]string{TagCluster: "other", TagInstance: "pine"}, map[string]string{"state": "running", "subnet": "subnet-0other000000001", "pub": "198.51.100.7"})

	w := &sshWaits{}
	p := testProvisioner(f, w)
	c, out := cluster(t, demoConfig)
	start := time.Now()
	hosts, err := p.Provision(context.Background(), c)
	require.NoError(t, err, out.String())
	t.Logf("first provision: %s, %d calls", time.Since(start), len(f.actions()))

	// Hosts: public addresses, the Debian login, the console's host keys.
	require.Len(t, hosts, 4)
	wantKeys := []string{"ecdsa-sha2-nistp256", "ssh-ed25519"}
	for i, h := range hosts {
		assert.Equal(t, c.Instances[i].Name, h.Name)
		assert.True(t, strings.HasPrefix(h.Address, "203.0.113."), h.Address)
		assert.Equal(t, 22, h.Port)
		assert.Equal(t, "admin", h.User)
		var types []string
		for _, k := range h.HostKeys {
			types = append(types, k.Type())
		}
		assert.Equal(t, wantKeys, types, h.Name)
		assert.Contains(t, w.addrs, h.Address+":22")
	}
	// The roles reach each other at the private addresses: the inventory
	// has them as ip_address.
	assert.Equal(t, "10.33.1.", c.Config.Instances[0].IPAddress[:8])
	assert.Equal(t, "10.33.2.", c.Config.Instances[3].IPAddress[:8])
	inv, err := clusterdir.FromConfig(c.Config, c.Dir)
	require.NoError(t, err)
	assert.Equal(t, c.Config.Instances[1].IPAddress, inv.Hosts["hornet"].Vars["ip_address"])
	// What platforms.Provision records in known_hosts from these keys.
	known := map[string][]ssh.PublicKey{}
	for _, h := range hosts {
		known[conn.KnownHostsName(h.Address, h.Port)] = h.HostKeys
	}
	_, err = conn.RecordKnownHosts(c.KnownHostsFile(), known)
	require.NoError(t, err)
	kh, err := os.ReadFile(c.KnownHostsFile())
	require.NoError(t, err)
	assert.Contains(t, string(kh), hosts[0].Address+" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnPs7TCxurRJEWvzAv8hl00ov/2MGusXJxsRE147f4Z")

	// What was asked for.
	vpc := f.callsOf("CreateVpc")
	require.Len(t, vpc, 1)
	assert.Equal(t, "10.33.0.0/16", vpc[0].Get("CidrBlock"))
	assert.Equal(t, map[string]string{TagCluster: "demo", "Name": "demo", "Owner": "alice"}, tagsOf(vpc[0], "vpc"))

	subnets := f.callsOf("CreateSubnet")
	require.Len(t, subnets, 2)
	assert.Equal(t, []string{"10.33.1.0/24", "10.33.2.0/24"}, []string{subnets[0].Get("CidrBlock"), subnets[1].Get("CidrBlock")})
	assert.Equal(t, []string{"eu-west-1a", "eu-west-1b"}, []string{subnets[0].Get("AvailabilityZone"), subnets[1].Get("AvailabilityZone")})
	assert.Equal(t, "demo-main", tagsOf(subnets[0], "subnet")["Name"])
	assert.Equal(t, "demo", tagsOf(subnets[1], "subnet")[TagCluster])

	require.Len(t, f.callsOf("CreateInternetGateway"), 1)
	require.Len(t, f.callsOf("AttachInternetGateway"), 1)
	route := f.callsOf("CreateRoute")
	require.Len(t, route, 1)
	assert.Equal(t, "0.0.0.0/0", route[0].Get("DestinationCidrBlock"))
	assert.True(t, strings.HasPrefix(route[0].Get("GatewayId"), "igw-"))
	assert.Len(t, f.callsOf("AssociateRouteTable"), 2)

	sg := f.callsOf("CreateSecurityGroup")
	require.Len(t, sg, 1)
	assert.Equal(t, "tpago-demo", sg[0].Get("GroupName"))
	auth := f.callsOf("AuthorizeSecurityGroupIngress")
	require.Len(t, auth, 1)
	assert.Equal(t, "tcp", auth[0].Get("IpPermissions.1.IpProtocol"))
	assert.Equal(t, "22", auth[0].Get("IpPermissions.1.FromPort"))
	assert.Equal(t, "0.0.0.0/0", auth[0].Get("IpPermissions.1.IpRanges.1.CidrIp"))
	assert.Equal(t, "5432", auth[0].Get("IpPermissions.2.ToPort"))
	assert.Equal(t, "10.33.0.0/16", auth[0].Get("IpPermissions.2.IpRanges.1.CidrIp"))

	key := f.callsOf("ImportKeyPair")
	require.Len(t, key, 1)
	assert.Equal(t, "tpago-demo", key[0].Get("KeyName"))
	material, err := base64.StdEncoding.DecodeString(key[0].Get("PublicKeyMaterial"))
	require.NoError(t, err)
	assert.Equal(t, c.PublicKey, string(material))

	// The newest Debian 12 amd64 image of Debian's account.
	imgs := f.callsOf("DescribeImages")
	require.Len(t, imgs, 1)
	assert.Equal(t, DebianOwner, imgs[0].Get("Owner.1"))
	run := f.callsOf("RunInstances")
	require.Len(t, run, 4)
	for i, r := range run {
		name := c.Instances[i].Name
		assert.Equal(t, "ami-0bbbbbbbbbbbbbbb2", r.Get("ImageId"), name)
		assert.Equal(t, "t3.micro", r.Get("InstanceType"), name)
		assert.Equal(t, "tpago-demo", r.Get("KeyName"), name)
		assert.Equal(t, "true", r.Get("NetworkInterface.1.AssociatePublicIpAddress"), name)
		assert.Equal(t, "/dev/xvda", r.Get("BlockDeviceMapping.1.DeviceName"), name)
		assert.Equal(t, "16", r.Get("BlockDeviceMapping.1.Ebs.VolumeSize"), name)
		assert.Equal(t, "gp3", r.Get("BlockDeviceMapping.1.Ebs.VolumeType"), name)
		assert.Equal(t, map[string]string{TagCluster: "demo", "Name": name, "Owner": "alice", TagInstance: name}, tagsOf(r, "instance"), name)
		assert.Equal(t, name, tagsOf(r, "volume")["Name"], name)
		ud, err := base64.StdEncoding.DecodeString(r.Get("UserData"))
		require.NoError(t, err)
		assert.Contains(t, string(ud), "hostname: "+name+"\n")
	}
	subnetOf := func(i int) string { return f.get(run[i].Get("NetworkInterface.1.SubnetId")).f["cidr"] }
	assert.Equal(t, []string{"10.33.1.0/24", "10.33.1.0/24", "10.33.2.0/24", "10.33.2.0/24"}, []string{subnetOf(0), subnetOf(1), subnetOf(2), subnetOf(3)})

	// Again: everything is found, nothing is made.
	f.reset()
	c2, out2 := cluster(t, demoConfig)
	c2.PublicKey = c.PublicKey
	start = time.Now()
	hosts2, err := p.Provision(context.Background(), c2)
	require.NoError(t, err, out2.String())
	t.Logf("second provision: %s, %d calls", time.Since(start), len(f.actions()))
	assert.Empty(t, creates(f.actions()), "a second provision makes nothing")
	assert.NotContains(t, f.actions(), "DescribeImages")
	for i := range hosts {
		assert.Equal(t, hosts[i].Address, hosts2[i].Address)
	}
	assert.Equal(t, 0, c2.Changes(), out2.String())
	assert.Contains(t, out2.String(), "vpc ")
	assert.Contains(t, out2.String(), ": present")

	// Deprovision removes exactly the cluster's.
	f.reset()
	removed, err := p.Deprovision(context.Background(), c2)
	require.NoError(t, err)
	assert.Len(t, removed, 4+1+2+1+1+1+1, removed)
	acts := creates(f.actions())
	assert.Equal(t, []string{"TerminateInstances", "DeleteSecurityGroup", "DeleteSubnet", "DeleteSubnet", "DeleteRouteTable", "DeleteInternetGateway", "DeleteVpc", "DeleteKeyPair"}, acts)
	term := f.callsOf("TerminateInstances")
	require.Len(t, term, 1)
	assert.Len(t, list(term[0], "InstanceId"), 4)
	assert.NotContains(t, list(term[0], "InstanceId"), "i-0other000000000001")
	assert.Equal(t, []string{"vpc-0other00000000001"}, f.ids("vpc"))
	assert.Equal(t, []string{"subnet-0other000000001"}, f.ids("subnet"))
	assert.Equal(t, []string{"sg-0other000000000001"}, f.ids("sg"))
	assert.Equal(t, []string{"key-0other00000000001"}, f.ids("key"))
	assert.Empty(t, f.ids("igw"))
	assert.Empty(t, f.ids("rtb"))
	assert.Equal(t, "running", f.get("i-0other000000000001").f["state"])
	for _, id := range f.ids("instance") {
		if id != "i-0other000000000001" {
			assert.Equal(t, "terminated", f.get(id).f["state"], id)
		}
	}

	// Once more: nothing is left to remove.
	f.reset()
	removed, err = p.Deprovision(context.Background(), c2)
	require.NoError(t, err)
	assert.Empty(t, removed)
	assert.Empty(t, creates(f.actions()))
}

func TestProvisionRestartsStoppedAndReplacesMissing(t *testing.T) {
	f := newFakeEC2(t)
	f.console = consoleText(t)
	w := &sshWaits{}
	p := testProvisioner(f, w)
	c, out := cluster(t, demoConfig)
	_, err := p.Provision(context.Background(), c)
	require.NoError(t, err, out.String())

	// One instance stopped, one terminated by hand.
	ids := f.ids("instance")
	f.get(ids[0]).f["state"] = "stopped"
	f.get(ids[1]).f["state"] = "terminated"
	f.reset()
	c2, out2 := cluster(t, demoConfig)
	c2.PublicKey = c.PublicKey
	hosts, err := p.Provision(context.Background(), c2)
	require.NoError(t, err, out2.String())
	assert.Equal(t, []string{"RunInstances", "StartInstances"}, creates(f.actions()))
	start := f.callsOf("StartInstances")
	assert.Equal(t, []string{ids[0]}, list(start[0], "InstanceId"))
	run := f.callsOf("RunInstances")
	assert.Equal(t, "hornet", tagsOf(run[0], "instance")[TagInstance])
	assert.Len(t, hosts, 4)
	assert.Equal(t, "running", f.get(ids[0]).f["state"])
}

func TestProvisionUsesANamedVPCAndKeepsIt(t *testing.T) {
	f := newFakeEC2(t)
	f.console = consoleText(t)
	f.add("vpc", "vpc-0shared0000000001", map[string]string{"Name": "shared"}, map[string]string{"cidr": "10.50.0.0/16"})
	f.add("igw", "igw-0shared0000000001", nil, nil).attach = []string{"vpc-0shared0000000001"}
	cfg := strings.NewReplacer("Name: demo\n    cidr: 10.33.0.0/16", "Name: shared\n    cidr: 10.50.0.0/16", "10.33.", "10.50.").Replace(demoConfig)
	p := testProvisioner(f, &sshWaits{})
	c, out := cluster(t, cfg)
	_, err := p.Provision(context.Background(), c)
	require.NoError(t, err, out.String())
	assert.Empty(t, f.callsOf("CreateVpc"))
	assert.Empty(t, f.callsOf("CreateInternetGateway"))
	route := f.callsOf("CreateRoute")
	require.Len(t, route, 1)
	assert.Equal(t, "igw-0shared0000000001", route[0].Get("GatewayId"))
	for _, s := range f.callsOf("CreateSubnet") {
		assert.Equal(t, "vpc-0shared0000000001", s.Get("VpcId"))
	}

	f.reset()
	_, err = p.Deprovision(context.Background(), c)
	require.NoError(t, err)
	assert.Empty(t, f.callsOf("DeleteVpc"), "a VPC tpago did not make stays")
	assert.Empty(t, f.callsOf("DeleteInternetGateway"))
	assert.Equal(t, []string{"vpc-0shared0000000001"}, f.ids("vpc"))
	assert.Equal(t, []string{"igw-0shared0000000001"}, f.ids("igw"))
	assert.Empty(t, f.ids("subnet"))
}

func TestProvisionRefusesBadInput(t *testing.T) {
	edit := func(pairs ...string) string { return strings.NewReplacer(pairs...).Replace(demoConfig) }
	for _, tc := range []struct {
		name, config, want string
	}{
		{"unknown region", edit("region: eu-west-1", "region: eu-west-9"), `config.yml:15:11: instance_defaults.region: unknown AWS region "eu-west-9" (known: eu-west-1, eu-west-2, eu-west-3)`},
		{"no region", edit("  region: eu-west-1\n", ""), "instance_defaults.region: the aws platform needs a region"},
		{"no instance type", edit("  type: t3.micro\n", ""), "instance pine: type: no instance type (set instance_defaults.type"},
		{"bad instance type", edit("  type: t3.micro\n", "  type: huge\n"), `"huge" is not an EC2 instance type`},
		{"vpc for another region", edit("ec2_vpc:\n  eu-west-1:", "ec2_vpc:\n  us-east-1:"), "ec2_vpc has no entry for the region eu-west-1"},
		{"subnet outside the VPC", edit("10.33.2.0/24", "10.34.2.0/24"), "10.34.2.0/24 is not a subnet (/28 or larger) of the VPC's 10.33.0.0/16"},
		{"instance subnet not listed", edit("    subnet: 10.33.2.0/24\n  - Name: wombat", "    subnet: 10.33.9.0/24\n  - Name: wombat"), `instance coyote: subnet: "10.33.9.0/24" is not one of the subnets`},
		{"bad rule", edit("proto: tcp\n    from_port: 5432", "proto: sctp\n    from_port: 5432"), `config.yml:43:12: cluster_rules[1]: proto "sctp": tcp, udp, icmp or all`},
		{"bad volume", edit("volume_type: gp3", "volume_type: fast"), `config.yml:19:20: instance_defaults.volumes[0]: volume_type "fast": one of gp2`},
		{"zone of another region", edit("az: eu-west-1b", "az: us-east-1b"), `config.yml:35:11: ec2_vpc_subnets: availability zone "us-east-1b" is not in the region eu-west-1`},
		{"VPC too large", edit("cidr: 10.33.0.0/16", "cidr: 10.0.0.0/8"), `config.yml:25:11: ec2_vpc.eu-west-1.cidr: "10.0.0.0/8" is not an IPv4 network from /16 to /28`},
		{"rule without port", edit("    from_port: 5432\n", ""), "cluster_rules[1]: no from_port"},
		{"image not an AMI", edit("    subnet: 10.33.1.0/24\n  - Name: hornet", "    subnet: 10.33.1.0/24\n    image: debian\n  - Name: hornet"), `instance pine: image: "debian" is not an AMI id`},
		{"reserved tag", edit("  Owner: alice", "  Owner: alice\n  Name: x"), "cluster_tags.Name: this tag is set by tpago"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeEC2(t)
			p := testProvisioner(f, &sshWaits{})
			c, _ := cluster(t, tc.config)
			require.ErrorContains(t, p.Validate(context.Background(), c), tc.want)
			_, err := p.Provision(context.Background(), c)
			require.ErrorContains(t, err, tc.want)
			assert.Empty(t, f.actions(), "nothing is asked of EC2 for a config.yml that is wrong")
		})
	}
}

func TestProvisionRefusesUnknownAMIBeforeMakingAnything(t *testing.T) {
	for _, tc := range []struct {
		name, replace, by, want string
	}{
		{"no image matches", `Name: debian-12-amd64-*`, `Name: debian-13-amd64-*`, `ec2_ami: no image called "debian-13-amd64-*" owned by 136693071363 in the region eu-west-1`},
		{"unknown id", "    subnet: 10.33.1.0/24\n  - Name: hornet", "    subnet: 10.33.1.0/24\n    image: ami-0fffffffffffffff9\n  - Name: hornet", "instance pine: image: image ami-0fffffffffffffff9 does not exist in the region eu-west-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeEC2(t)
			p := testProvisioner(f, &sshWaits{})
			c, _ := cluster(t, strings.Replace(demoConfig, tc.replace, tc.by, 1))
			_, err := p.Provision(context.Background(), c)
			require.ErrorContains(t, err, tc.want)
			assert.Empty(t, creates(f.actions()), "nothing is made")
		})
	}
}

func TestProvisionWithAnImageIDAndDefaults(t *testing.T) {
	// No ec2_* settings at all: a VPC 10.33.0.0/16, a /24 per location,
	// SSH from anywhere and everything within the VPC.
	cfg := `architecture: M1
cluster_name: tiny
instance_defaults:
  platform: aws
  type: t3.small
  region: us-east-2
  image: ami-0123456789abcdef0
  vars:
    ansible_user: root
locations:
  - Name: a
instances:
  - Name: one
    node: 1
    location: a
    role: [primary]
    type: m6i.large
    ip_address: 10.33.1.20
`
	f := newFakeEC2(t)
	f.console = consoleText(t)
	p := testProvisioner(f, &sshWaits{})
	c, out := cluster(t, cfg)
	hosts, err := p.Provision(context.Background(), c)
	require.NoError(t, err, out.String())
	require.Len(t, hosts, 1)
	assert.Equal(t, "root", hosts[0].User)
	assert.Equal(t, "10.33.0.0/16", f.callsOf("CreateVpc")[0].Get("CidrBlock"))
	assert.Equal(t, "10.33.1.0/24", f.callsOf("CreateSubnet")[0].Get("CidrBlock"))
	auth := f.callsOf("AuthorizeSecurityGroupIngress")[0]
	assert.Equal(t, "-1", auth.Get("IpPermissions.2.IpProtocol"))
	assert.Equal(t, "10.33.0.0/16", auth.Get("IpPermissions.2.IpRanges.1.CidrIp"))
	run := f.callsOf("RunInstances")[0]
	assert.Equal(t, "ami-0123456789abcdef0", run.Get("ImageId"))
	assert.Equal(t, "m6i.large", run.Get("InstanceType"))
	assert.Equal(t, "10.33.1.20", run.Get("NetworkInterface.1.PrivateIpAddress"))
	assert.Empty(t, run.Get("BlockDeviceMapping.1.DeviceName"))
	ud, _ := base64.StdEncoding.DecodeString(run.Get("UserData"))
	assert.Contains(t, string(ud), "disable_root: false")
	assert.Equal(t, "ImageId.1=ami-0123456789abcdef0", "ImageId.1="+f.callsOf("DescribeImages")[0].Get("ImageId.1"))
}

func TestProvisionFailsWhenTheConsoleNeverShowsHostKeys(t *testing.T) {
	f := newFakeEC2(t)
	f.console = "[    6.0] cloud-init[398]: Cloud-init v. 22.4.2 running 'init'\r\n-----BEGIN SSH HOST KEY KEYS-----\r\n"
	p := testProvisioner(f, &sshWaits{})
	p.BootWait = 200 * time.Millisecond
	p.Poll = 20 * time.Millisecond
	c, _ := cluster(t, demoConfig)
	_, err := p.Provision(context.Background(), c)
	require.ErrorContains(t, err, "no host keys on the console after 200ms")
}

func TestDefaultClientUsesTheStandardChain(t *testing.T) {
	f := newFakeEC2(t)
	f.console = consoleText(t)
	// Credentials and endpoint from the environment, as a user sets them.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
	t.Setenv("AWS_ENDPOINT_URL_EC2", f.srv.URL)
	p := &Provisioner{WaitSSH: (&sshWaits{}).wait, Poll: time.Millisecond}
	c, out := cluster(t, demoConfig)
	_, err := p.Provision(context.Background(), c)
	require.NoError(t, err, out.String())
	assert.Len(t, f.callsOf("RunInstances"), 4)
}

func TestDefaultClientSaysWhenThereAreNoCredentials(t *testing.T) {
	_, err := DefaultClient(context.Background(), "eu-west-1")
	require.ErrorContains(t, err, "no AWS credentials found (set AWS_PROFILE")
}

func TestRegistered(t *testing.T) {
	p, ok := platforms.Lookup("aws")
	require.True(t, ok)
	assert.IsType(t, &Provisioner{}, p)
}

func TestCheckRegion(t *testing.T) {
	for _, r := range []string{"eu-west-1", "us-east-2", "ap-southeast-2", "us-gov-west-1"} {
		assert.NoError(t, CheckRegion(r), r)
	}
	assert.EqualError(t, CheckRegion("us-east-7"), `unknown AWS region "us-east-7" (known: us-east-1, us-east-2)`)
	assert.EqualError(t, CheckRegion("eu-wset-1"), `unknown AWS region "eu-wset-1" (known: eu-central-1, eu-central-2, eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-2, eu-west-3)`)
	assert.ErrorContains(t, CheckRegion("mars"), `unknown AWS region "mars" (known: af-south-1,`)
	assert.ErrorContains(t, CheckRegion(""), `unknown AWS region "" (known: af-south-1,`)
}

func TestDeprovisionThroughThePlatformsPackage(t *testing.T) {
	// tpago deprovision DIR: LoadCluster, the registered aws provisioner,
	// credentials and endpoint from the environment.
	f := newFakeEC2(t)
	f.console = consoleText(t)
	c, out := cluster(t, demoConfig)
	_, err := testProvisioner(f, &sshWaits{}).Provision(context.Background(), c)
	require.NoError(t, err, out.String())
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret")
	t.Setenv("AWS_ENDPOINT_URL_EC2", f.srv.URL)
	var log bytes.Buffer
	removed, err := platforms.Deprovision(context.Background(), c.Dir, &log)
	require.NoError(t, err, log.String())
	assert.Len(t, removed, 11)
	assert.Contains(t, log.String(), "instance pine (i-")
	assert.Contains(t, log.String(), "vpc vpc-")
	assert.Empty(t, f.ids("vpc"))
	assert.Empty(t, f.ids("key"))
}

func TestProvisionFollowsConfigChanges(t *testing.T) {
	f := newFakeEC2(t)
	f.console = consoleText(t)
	p := testProvisioner(f, &sshWaits{})
	c, out := cluster(t, demoConfig)
	_, err := p.Provision(context.Background(), c)
	require.NoError(t, err, out.String())

	// A new rule and a new key: only they are sent.
	cfg := strings.Replace(demoConfig, "instances:\n", "  - cidr_ip: 192.0.2.0/24\n    proto: tcp\n    from_port: 6432\n    to_port: 6432\ninstances:\n", 1)
	f.reset()
	c2, out2 := cluster(t, cfg)
	_, err = p.Provision(context.Background(), c2)
	require.NoError(t, err, out2.String())
	assert.Equal(t, []string{"AuthorizeSecurityGroupIngress", "DeleteKeyPair", "ImportKeyPair"}, creates(f.actions()))
	auth := f.callsOf("AuthorizeSecurityGroupIngress")[0]
	assert.Equal(t, "6432", auth.Get("IpPermissions.1.FromPort"))
	assert.Equal(t, "192.0.2.0/24", auth.Get("IpPermissions.1.IpRanges.1.CidrIp"))
	assert.Empty(t, auth.Get("IpPermissions.2.IpProtocol"))
	assert.Contains(t, out2.String(), "holds another key")
	keys := f.ids("key")
	require.Len(t, keys, 1)
	assert.Equal(t, c2.PublicKey, f.get(keys[0]).f["public"])
}

func TestProvisionDefaultRulesAreNotSentTwice(t *testing.T) {
	cfg := strings.Replace(demoConfig, "cluster_rules:\n  - cidr_ip: 0.0.0.0/0\n    proto: tcp\n    from_port: 22\n    to_port: 22\n  - cidr_ip: 10.33.0.0/16\n    proto: tcp\n    from_port: 5432\n    to_port: 5432\n", "", 1)
	require.NotContains(t, cfg, "cluster_rules")
	f := newFakeEC2(t)
	f.console = consoleText(t)
	p := testProvisioner(f, &sshWaits{})
	c, out := cluster(t, cfg)
	_, err := p.Provision(context.Background(), c)
	require.NoError(t, err, out.String())
	auth := f.callsOf("AuthorizeSecurityGroupIngress")
	require.Len(t, auth, 1)
	assert.Equal(t, "22", auth[0].Get("IpPermissions.1.ToPort"))
	assert.Equal(t, "-1", auth[0].Get("IpPermissions.2.IpProtocol"))
	assert.Empty(t, auth[0].Get("IpPermissions.2.FromPort"))
	f.reset()
	c2, out2 := cluster(t, cfg)
	c2.PublicKey = c.PublicKey
	_, err = p.Provision(context.Background(), c2)
	require.NoError(t, err, out2.String())
	assert.Empty(t, creates(f.actions()))
}

func TestProvisionRefusesWhatIsNotTheClusters(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *fakeEC2)
		want  string
	}{
		{"a key pair of the same name without the tag", func(f *fakeEC2) {
			f.add("key", "key-0foreign000000001", nil, map[string]string{"name": "tpago-demo"})
		}, "a key pair named tpago-demo exists in eu-west-1 and is not this cluster's (it lacks the tag tpago.cluster=demo)"},
		{"a VPC of that Name made for another cluster", func(f *fakeEC2) {
			f.add("vpc", "vpc-0foreign000000001", map[string]string{"Name": "demo", TagCluster: "demo2"}, map[string]string{"cidr": "10.33.0.0/16"})
		}, "ec2_vpc: the VPC named demo (vpc-0foreign000000001) was made for the cluster demo2: name another VPC"},
		{"two instances of one name", func(f *fakeEC2) {
			for _, id := range []string{"i-0dup0000000000001", "i-0dup0000000000002"} {
				f.add("instance", id, map[string]string{TagCluster: "demo", TagInstance: "pine"}, map[string]string{"state": "running"})
			}
		}, "cluster demo has two instances called pine: i-0dup0000000000001 and i-0dup0000000000002; terminate one"},
		{"EC2 refuses to launch", func(f *fakeEC2) {
			f.failAction["RunInstances"] = "InsufficientInstanceCapacity"
		}, "instance pine: run t3.micro from ami-0bbbbbbbbbbbbbbb2: operation error EC2: RunInstances"},
		{"what was made is named when a later step fails", func(f *fakeEC2) {
			f.failAction["ImportKeyPair"] = "InvalidKey.Format"
		}, "api error InvalidKey.Format: failing on purpose\n(what was made carries the tag tpago.cluster=demo: provision again to finish, or deprovision to remove it)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeEC2(t)
			f.console = consoleText(t)
			tc.setup(f)
			c, _ := cluster(t, demoConfig)
			_, err := testProvisioner(f, &sshWaits{}).Provision(context.Background(), c)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestProvisionReadsTheConsoleOfOlderInstanceTypes(t *testing.T) {
	f := newFakeEC2(t)
	f.console = consoleText(t)
	f.oldInstances = true
	c, out := cluster(t, strings.Replace(demoConfig, "t3.micro", "t2.micro", 1))
	hosts, err := testProvisioner(f, &sshWaits{}).Provision(context.Background(), c)
	require.NoError(t, err, out.String())
	for _, h := range hosts {
		assert.Len(t, h.HostKeys, 2, h.Name)
	}
	var latest []string
	for _, form := range f.callsOf("GetConsoleOutput") {
		latest = append(latest, form.Get("Latest"))
	}
	assert.Contains(t, latest, "true")
	assert.Contains(t, latest, "false")
}

func TestProvisionLeavesInstancesRemovedFromConfig(t *testing.T) {
	f := newFakeEC2(t)
	f.console = consoleText(t)
	p := testProvisioner(f, &sshWaits{})
	c, out := cluster(t, demoConfig)
	_, err := p.Provision(context.Background(), c)
	require.NoError(t, err, out.String())

	cfg := demoConfig[:strings.Index(demoConfig, "  - Name: wombat")]
	f.reset()
	c2, out2 := cluster(t, cfg)
	c2.PublicKey = c.PublicKey
	hosts, err := p.Provision(context.Background(), c2)
	require.NoError(t, err, out2.String())
	assert.Len(t, hosts, 3)
	assert.Empty(t, creates(f.actions()))
	assert.Regexp(t, `instance wombat \(i-[0-9a-f]+\): carries the cluster's tag but is not in config.yml; left as it is \(deprovision removes it\)`, out2.String())
}

func TestDeprovisionWaitsWhileEC2SaysInUse(t *testing.T) {
	f := newFakeEC2(t)
	f.console = consoleText(t)
	p := testProvisioner(f, &sshWaits{})
	c, out := cluster(t, demoConfig)
	_, err := p.Provision(context.Background(), c)
	require.NoError(t, err, out.String())
	f.reset()
	f.busy["DeleteSecurityGroup"] = 3
	f.busy["DeleteVpc"] = 1
	removed, err := p.Deprovision(context.Background(), c)
	require.NoError(t, err)
	assert.Len(t, removed, 11)
	assert.Len(t, f.callsOf("DeleteSecurityGroup"), 4)
	assert.Len(t, f.callsOf("DeleteVpc"), 2)
	assert.Empty(t, f.ids("vpc"))

	// Still in use after the wait: said, and the rest is still removed.
	c2, out2 := cluster(t, demoConfig)
	_, err = p.Provision(context.Background(), c2)
	require.NoError(t, err, out2.String())
	p.DeleteWait = 50 * time.Millisecond
	p.Poll = 10 * time.Millisecond
	f.busy["DeleteSecurityGroup"] = 1000
	removed, err = p.Deprovision(context.Background(), c2)
	require.ErrorContains(t, err, "delete security group sg-")
	require.ErrorContains(t, err, "DependencyViolation")
	assert.Contains(t, removed, "key pair tpago-demo")
	assert.Len(t, f.ids("sg"), 1)
}

func TestProvisionSaysWhichHostDoesNotAnswer(t *testing.T) {
	f := newFakeEC2(t)
	f.console = consoleText(t)
	p := testProvisioner(f, &sshWaits{})
	p.WaitSSH = func(ctx context.Context, addr string) error {
		if addr == "203.0.113.12:22" {
			return fmt.Errorf("port 22 does not answer: connection refused")
		}
		return nil
	}
	c, _ := cluster(t, demoConfig)
	_, err := p.Provision(context.Background(), c)
	require.Error(t, err)
	assert.Regexp(t, `instance hornet \(i-[0-9a-f]+, 203\.0\.113\.12\): port 22 does not answer: connection refused`, err.Error())
}
