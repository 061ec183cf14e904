package aws

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/tpago/tpago/platforms"
	"golang.org/x/crypto/ssh"
)

// Provision makes (or finds) the cluster's VPC, subnets, internet gateway
// and route table, security group, key pair and instances, waits until
// every instance runs, answers on port 22 and has printed its host keys on
// its console, and returns how to reach each one.
func (p *Provisioner) Provision(ctx context.Context, c *platforms.Cluster) ([]platforms.Host, error) {
	pl, err := makePlan(c)
	if err != nil {
		return nil, err
	}
	if c.PublicKey == "" {
		return nil, fmt.Errorf("the cluster has no SSH public key")
	}
	cli, err := p.client(ctx, pl.region)
	if err != nil {
		return nil, err
	}
	existing, err := listInstances(ctx, cli, c.Name)
	if err != nil {
		return nil, err
	}
	// The images of the instances to make, found before anything is made.
	var missing []*platforms.Instance
	for _, in := range c.Instances {
		if _, ok := existing[in.Name]; !ok {
			missing = append(missing, in)
		}
	}
	images, err := resolveImages(ctx, cli, c, pl, missing)
	if err != nil {
		return nil, err
	}
	for _, name := range sortedKeys(existing) {
		if !slices.ContainsFunc(c.Instances, func(in *platforms.Instance) bool { return in.Name == name }) {
			c.Say("instance %s (%s): carries the cluster's tag but is not in config.yml; left as it is (deprovision removes it)", name, aws.ToString(existing[name].InstanceId))
		}
	}
	hosts, err := p.build(ctx, cli, c, pl, existing, images)
	if err != nil && c.Changes() > 0 {
		return nil, fmt.Errorf("%w\n(what was made carries the tag %s=%s: provision again to finish, or deprovision to remove it)", err, TagCluster, c.Name)
	}
	return hosts, err
}

// build makes or finds the network, security group, key pair and instances.
func (p *Provisioner) build(ctx context.Context, cli *ec2.Client, c *platforms.Cluster, pl *plan, existing map[string]types.Instance, images map[string]types.Image) ([]platforms.Host, error) {

	vpcID, vpcCIDR, err := p.ensureVPC(ctx, cli, c, pl)
	if err != nil {
		return nil, err
	}
	subnetIDs, own, err := p.ensureSubnets(ctx, cli, c, pl, vpcID, vpcCIDR)
	if err != nil {
		return nil, err
	}
	if len(own) > 0 {
		if err := p.ensureRoutes(ctx, cli, c, pl, vpcID, own); err != nil {
			return nil, err
		}
	}
	sgID, err := p.ensureSecurityGroup(ctx, cli, c, pl, vpcID)
	if err != nil {
		return nil, err
	}
	keyName, err := ensureKeyPair(ctx, cli, c, pl)
	if err != nil {
		return nil, err
	}
	return p.ensureInstances(ctx, cli, c, pl, existing, images, subnetIDs, sgID, keyName)
}

func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

func clusterFilter(cluster string) types.Filter {
	return types.Filter{Name: tagFilterName(TagCluster), Values: []string{cluster}}
}

// tagSpec tags a resource made for the cluster: the cluster's tags, Name,
// and extra key-value pairs.
func (pl *plan) tagSpec(rt types.ResourceType, name string, extra ...string) types.TagSpecification {
	ts := types.TagSpecification{ResourceType: rt}
	for _, k := range sortedKeys(pl.tags) {
		ts.Tags = append(ts.Tags, types.Tag{Key: aws.String(k), Value: aws.String(pl.tags[k])})
	}
	ts.Tags = append(ts.Tags, types.Tag{Key: aws.String("Name"), Value: aws.String(name)})
	for i := 0; i+1 < len(extra); i += 2 {
		ts.Tags = append(ts.Tags, types.Tag{Key: aws.String(extra[i]), Value: aws.String(extra[i+1])})
	}
	return ts
}

func tagValue(tags []types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// listInstances returns the cluster's instances that are not terminated
// (or terminating), by instance name.
func listInstances(ctx context.Context, cli *ec2.Client, cluster string) (map[string]types.Instance, error) {
	all, err := describeInstances(ctx, cli, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		clusterFilter(cluster),
		filter("instance-state-name", "pending", "running", "stopping", "stopped"),
	}})
	if err != nil {
		return nil, err
	}
	out := map[string]types.Instance{}
	for _, i := range all {
		name := tagValue(i.Tags, TagInstance)
		if o, dup := out[name]; dup {
			return nil, fmt.Errorf("cluster %s has two instances called %s: %s and %s; terminate one", cluster, name, aws.ToString(o.InstanceId), aws.ToString(i.InstanceId))
		}
		out[name] = i
	}
	return out, nil
}

func describeInstances(ctx context.Context, cli *ec2.Client, in *ec2.DescribeInstancesInput) ([]types.Instance, error) {
	var all []types.Instance
	pg := ec2.NewDescribeInstancesPaginator(cli, in)
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list instances: %w", err)
		}
		for _, r := range out.Reservations {
			all = append(all, r.Instances...)
		}
	}
	return all, nil
}

// resolveImages finds the AMI of every instance to make: its own image id,
// or the newest image of ec2_ami (Debian 12's when config.yml has none).
func resolveImages(ctx context.Context, cli *ec2.Client, c *platforms.Cluster, pl *plan, missing []*platforms.Instance) (map[string]types.Image, error) {
	out := map[string]types.Image{}
	var byPattern *types.Image
	for _, in := range missing {
		id := pl.amiID[in.Name]
		if id == "" && pl.amiOwner == "" {
			id = pl.amiName
		}
		if id != "" {
			res, err := cli.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
			if err != nil && !notFound(errCode(err)) && errCode(err) != "InvalidAMIID.Malformed" {
				return nil, fmt.Errorf("look up image %s: %w", id, err)
			}
			if err != nil || len(res.Images) == 0 {
				return nil, c.InstanceError(in, "image", "image %s does not exist in the region %s (or this account may not use it)", id, pl.region)
			}
			out[in.Name] = res.Images[0]
			continue
		}
		if byPattern == nil {
			res, err := cli.DescribeImages(ctx, &ec2.DescribeImagesInput{
				Owners:  []string{pl.amiOwner},
				Filters: []types.Filter{filter("name", pl.amiName), filter("state", "available")},
			})
			if err != nil {
				return nil, fmt.Errorf("look up the image %s of %s: %w", pl.amiName, pl.amiOwner, err)
			}
			if len(res.Images) == 0 {
				return nil, fmt.Errorf("%s: ec2_ami: no image called %q owned by %s in the region %s", c.Where("$.ec2_ami"), pl.amiName, pl.amiOwner, pl.region)
			}
			imgs := res.Images
			sort.Slice(imgs, func(i, j int) bool { return aws.ToString(imgs[i].CreationDate) > aws.ToString(imgs[j].CreationDate) })
			byPattern = &imgs[0]
			c.Say("image: %s (%s), the newest of %s", aws.ToString(byPattern.ImageId), aws.ToString(byPattern.Name), pl.amiName)
		}
		out[in.Name] = *byPattern
	}
	return out, nil
}

// ensureVPC finds the cluster's VPC (by its tag), the one ec2_vpc names
// (by id, or by Name when it belongs to no other cluster), or makes one.
func (p *Provisioner) ensureVPC(ctx context.Context, cli *ec2.Client, c *platforms.Cluster, pl *plan) (string, netip.Prefix, error) {
	res, err := cli.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{clusterFilter(c.Name)}})
	if err != nil {
		return "", netip.Prefix{}, fmt.Errorf("list VPCs: %w", err)
	}
	if len(res.Vpcs) > 1 {
		return "", netip.Prefix{}, fmt.Errorf("cluster %s has %d VPCs in %s; delete all but one", c.Name, len(res.Vpcs), pl.region)
	}
	if len(res.Vpcs) == 1 {
		v := res.Vpcs[0]
		cidr, _ := netip.ParsePrefix(aws.ToString(v.CidrBlock))
		if pl.vpcID == "" && cidr != pl.vpcCIDR {
			return "", netip.Prefix{}, fmt.Errorf("%s: the cluster's VPC %s has the network %s, config.yml says %s: deprovision and provision again", c.Where("$.ec2_vpc"), aws.ToString(v.VpcId), cidr, pl.vpcCIDR)
		}
		c.Say("vpc %s (%s): present", aws.ToString(v.VpcId), cidr)
		return aws.ToString(v.VpcId), cidr, nil
	}
	var found []types.Vpc
	if pl.vpcID != "" {
		res, err := cli.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{pl.vpcID}})
		if err != nil && !notFound(errCode(err)) {
			return "", netip.Prefix{}, fmt.Errorf("look up VPC %s: %w", pl.vpcID, err)
		}
		if err != nil || len(res.Vpcs) == 0 {
			return "", netip.Prefix{}, fmt.Errorf("%s: ec2_vpc: VPC %s does not exist in %s", c.Where("$.ec2_vpc"), pl.vpcID, pl.region)
		}
		found = res.Vpcs
	} else {
		res, err := cli.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("tag:Name", pl.vpcName)}})
		if err != nil {
			return "", netip.Prefix{}, fmt.Errorf("list VPCs: %w", err)
		}
		for _, v := range res.Vpcs {
			if other := tagValue(v.Tags, TagCluster); other != "" {
				return "", netip.Prefix{}, fmt.Errorf("%s: ec2_vpc: the VPC named %s (%s) was made for the cluster %s: name another VPC", c.Where("$.ec2_vpc"), pl.vpcName, aws.ToString(v.VpcId), other)
			}
		}
		if len(res.Vpcs) > 1 {
			return "", netip.Prefix{}, fmt.Errorf("%s: ec2_vpc: %d VPCs are named %s: give vpc_id", c.Where("$.ec2_vpc"), len(res.Vpcs), pl.vpcName)
		}
		found = res.Vpcs
	}
	if len(found) == 1 {
		v := found[0]
		cidr, _ := netip.ParsePrefix(aws.ToString(v.CidrBlock))
		c.Say("vpc %s (%s): using the existing VPC %s", aws.ToString(v.VpcId), cidr, pl.vpcName)
		return aws.ToString(v.VpcId), cidr, nil
	}
	out, err := cli.CreateVpc(ctx, &ec2.CreateVpcInput{
		CidrBlock:         aws.String(pl.vpcCIDR.String()),
		TagSpecifications: []types.TagSpecification{pl.tagSpec(types.ResourceTypeVpc, pl.vpcName)},
	})
	if err != nil {
		return "", netip.Prefix{}, fmt.Errorf("create VPC %s (%s): %w", pl.vpcName, pl.vpcCIDR, err)
	}
	id := aws.ToString(out.Vpc.VpcId)
	c.Changed("vpc %s (%s): created", id, pl.vpcCIDR)
	return id, pl.vpcCIDR, nil
}

// ensureSubnets makes the plan's subnets that the VPC lacks. It returns
// every subnet's id by network, and the ids of the cluster's own subnets
// (those that carry its tag), which get the cluster's route table.
func (p *Provisioner) ensureSubnets(ctx context.Context, cli *ec2.Client, c *platforms.Cluster, pl *plan, vpcID string, vpcCIDR netip.Prefix) (map[netip.Prefix]string, []string, error) {
	res, err := cli.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("vpc-id", vpcID)}})
	if err != nil {
		return nil, nil, fmt.Errorf("list subnets of %s: %w", vpcID, err)
	}
	have := map[netip.Prefix]types.Subnet{}
	for _, s := range res.Subnets {
		if pfx, err := netip.ParsePrefix(aws.ToString(s.CidrBlock)); err == nil {
			have[pfx] = s
		}
	}
	ids := map[netip.Prefix]string{}
	var own []string
	for _, sp := range pl.subnets {
		if s, ok := have[sp.cidr]; ok {
			id := aws.ToString(s.SubnetId)
			ids[sp.cidr] = id
			if tagValue(s.Tags, TagCluster) == c.Name {
				own = append(own, id)
			}
			if sp.az != "" && aws.ToString(s.AvailabilityZone) != sp.az {
				c.Say("subnet %s (%s): in %s, config.yml says %s (left as it is)", id, sp.cidr, aws.ToString(s.AvailabilityZone), sp.az)
			} else {
				c.Say("subnet %s (%s): present", id, sp.cidr)
			}
			continue
		}
		if !vpcCIDR.Contains(sp.cidr.Addr()) {
			return nil, nil, fmt.Errorf("%s: ec2_vpc_subnets: %s is not within the VPC %s's network %s", c.Where("$.ec2_vpc_subnets"), sp.cidr, vpcID, vpcCIDR)
		}
		name := c.Name
		if sp.location != "" {
			name += "-" + sp.location
		}
		in := &ec2.CreateSubnetInput{
			VpcId:             aws.String(vpcID),
			CidrBlock:         aws.String(sp.cidr.String()),
			TagSpecifications: []types.TagSpecification{pl.tagSpec(types.ResourceTypeSubnet, name)},
		}
		if sp.az != "" {
			in.AvailabilityZone = aws.String(sp.az)
		}
		var out *ec2.CreateSubnetOutput
		err := p.retry(ctx, time.Minute, notFound, func() (err error) {
			out, err = cli.CreateSubnet(ctx, in)
			return err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("create subnet %s in %s: %w", sp.cidr, vpcID, err)
		}
		id := aws.ToString(out.Subnet.SubnetId)
		ids[sp.cidr] = id
		own = append(own, id)
		c.Changed("subnet %s (%s, %s): created", id, sp.cidr, aws.ToString(out.Subnet.AvailabilityZone))
	}
	return ids, own, nil
}

// ensureRoutes gives the cluster's subnets a route to the internet: the
// VPC's internet gateway (made when it has none) and a route table of the
// cluster's with the default route through it.
func (p *Provisioner) ensureRoutes(ctx context.Context, cli *ec2.Client, c *platforms.Cluster, pl *plan, vpcID string, own []string) error {
	igws, err := cli.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{filter("attachment.vpc-id", vpcID)}})
	if err != nil {
		return fmt.Errorf("list internet gateways: %w", err)
	}
	var igwID string
	if len(igws.InternetGateways) > 0 {
		igwID = aws.ToString(igws.InternetGateways[0].InternetGatewayId)
		c.Say("internet gateway %s: present", igwID)
	} else {
		// One of the cluster's, left unattached by an interrupted run?
		mine, err := cli.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{clusterFilter(c.Name)}})
		if err != nil {
			return fmt.Errorf("list internet gateways: %w", err)
		}
		for _, g := range mine.InternetGateways {
			if len(g.Attachments) == 0 {
				igwID = aws.ToString(g.InternetGatewayId)
				break
			}
		}
		if igwID == "" {
			out, err := cli.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{
				TagSpecifications: []types.TagSpecification{pl.tagSpec(types.ResourceTypeInternetGateway, c.Name)},
			})
			if err != nil {
				return fmt.Errorf("create internet gateway: %w", err)
			}
			igwID = aws.ToString(out.InternetGateway.InternetGatewayId)
		}
		err = p.retry(ctx, time.Minute, notFound, func() error {
			_, err := cli.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(igwID), VpcId: aws.String(vpcID)})
			return err
		})
		if err != nil {
			return fmt.Errorf("attach internet gateway %s to %s: %w", igwID, vpcID, err)
		}
		c.Changed("internet gateway %s: attached to %s", igwID, vpcID)
	}

	rts, err := cli.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{filter("vpc-id", vpcID), clusterFilter(c.Name)}})
	if err != nil {
		return fmt.Errorf("list route tables: %w", err)
	}
	var rt types.RouteTable
	if len(rts.RouteTables) > 0 {
		rt = rts.RouteTables[0]
		c.Say("route table %s: present", aws.ToString(rt.RouteTableId))
	} else {
		out, err := cli.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{
			VpcId:             aws.String(vpcID),
			TagSpecifications: []types.TagSpecification{pl.tagSpec(types.ResourceTypeRouteTable, c.Name)},
		})
		if err != nil {
			return fmt.Errorf("create route table in %s: %w", vpcID, err)
		}
		rt = *out.RouteTable
		c.Changed("route table %s: created", aws.ToString(rt.RouteTableId))
	}
	rtID := aws.ToString(rt.RouteTableId)
	hasDefault := false
	for _, r := range rt.Routes {
		if aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" {
			hasDefault = true
			if g := aws.ToString(r.GatewayId); g != igwID {
				c.Say("route table %s: the default route goes to %s, not the internet gateway %s (left as it is)", rtID, g, igwID)
			}
		}
	}
	if !hasDefault {
		err := p.retry(ctx, time.Minute, notFound, func() error {
			_, err := cli.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(rtID), DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(igwID)})
			return err
		})
		if err != nil {
			return fmt.Errorf("route 0.0.0.0/0 through %s in %s: %w", igwID, rtID, err)
		}
		c.Changed("route table %s: default route through %s", rtID, igwID)
	}
	associated := map[string]bool{}
	for _, a := range rt.Associations {
		associated[aws.ToString(a.SubnetId)] = true
	}
	for _, s := range own {
		if associated[s] {
			continue
		}
		err := p.retry(ctx, time.Minute, notFound, func() error {
			_, err := cli.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(rtID), SubnetId: aws.String(s)})
			return err
		})
		if err != nil {
			return fmt.Errorf("associate route table %s with subnet %s: %w", rtID, s, err)
		}
		c.Changed("route table %s: associated with subnet %s", rtID, s)
	}
	return nil
}

// ensureSecurityGroup finds or makes the cluster's security group and
// allows what cluster_rules allow that it does not yet.
func (p *Provisioner) ensureSecurityGroup(ctx context.Context, cli *ec2.Client, c *platforms.Cluster, pl *plan, vpcID string) (string, error) {
	res, err := cli.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("vpc-id", vpcID), clusterFilter(c.Name)}})
	if err != nil {
		return "", fmt.Errorf("list security groups: %w", err)
	}
	var id string
	have := map[rule]bool{}
	if len(res.SecurityGroups) > 0 {
		sg := res.SecurityGroups[0]
		id = aws.ToString(sg.GroupId)
		for _, perm := range sg.IpPermissions {
			for _, r := range perm.IpRanges {
				have[rule{cidr: aws.ToString(r.CidrIp), proto: aws.ToString(perm.IpProtocol), from: aws.ToInt32(perm.FromPort), to: aws.ToInt32(perm.ToPort)}] = true
			}
		}
		c.Say("security group %s: present", id)
	} else {
		name := "tpago-" + c.Name
		out, err := p.createSecurityGroup(ctx, cli, pl, vpcID, name, c.Name)
		if err != nil {
			return "", err
		}
		id = aws.ToString(out.GroupId)
		c.Changed("security group %s (%s): created", id, name)
	}
	var perms []types.IpPermission
	var added []string
	for _, r := range pl.rules {
		if have[r] || r.proto == "-1" && have[rule{cidr: r.cidr, proto: "-1"}] {
			continue
		}
		perm := types.IpPermission{IpProtocol: aws.String(r.proto), IpRanges: []types.IpRange{{CidrIp: aws.String(r.cidr)}}}
		if r.proto != "-1" {
			perm.FromPort, perm.ToPort = aws.Int32(r.from), aws.Int32(r.to)
		}
		perms = append(perms, perm)
		added = append(added, r.String())
	}
	if len(perms) > 0 {
		err := p.retry(ctx, time.Minute, notFound, func() error {
			_, err := cli.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: perms})
			return err
		})
		if err != nil {
			return "", fmt.Errorf("security group %s: allow %s: %w", id, strings.Join(added, ", "), err)
		}
		c.Changed("security group %s: allowed %s", id, strings.Join(added, ", "))
	}
	return id, nil
}

func (p *Provisioner) createSecurityGroup(ctx context.Context, cli *ec2.Client, pl *plan, vpcID, name, cluster string) (*ec2.CreateSecurityGroupOutput, error) {
	var out *ec2.CreateSecurityGroupOutput
	err := p.retry(ctx, time.Minute, notFound, func() (err error) {
		out, err = cli.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			GroupName:         aws.String(name),
			Description:       aws.String("tpago cluster " + cluster),
			VpcId:             aws.String(vpcID),
			TagSpecifications: []types.TagSpecification{pl.tagSpec(types.ResourceTypeSecurityGroup, name)},
		})
		return err
	})
	if errCode(err) == "InvalidGroup.Duplicate" {
		return nil, fmt.Errorf("a security group named %s exists in %s and is not this cluster's (it lacks the tag %s=%s): delete or rename it", name, vpcID, TagCluster, cluster)
	}
	if err != nil {
		return nil, fmt.Errorf("create security group %s in %s: %w", name, vpcID, err)
	}
	return out, nil
}

// keyOf is the algorithm and key of an authorized_keys line, without its comment.
func keyOf(line string) string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return line
	}
	return f[0] + " " + f[1]
}

// ensureKeyPair imports the cluster's public key as the key pair
// tpago-<cluster>, replacing one of the cluster's with another key.
func ensureKeyPair(ctx context.Context, cli *ec2.Client, c *platforms.Cluster, pl *plan) (string, error) {
	name := "tpago-" + c.Name
	res, err := cli.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: []types.Filter{clusterFilter(c.Name)}, IncludePublicKey: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("list key pairs: %w", err)
	}
	for _, k := range res.KeyPairs {
		if aws.ToString(k.KeyName) != name {
			continue
		}
		if pub := aws.ToString(k.PublicKey); pub == "" || keyOf(pub) == keyOf(c.PublicKey) {
			c.Say("key pair %s: present", name)
			return name, nil
		}
		if _, err := cli.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyPairId: k.KeyPairId}); err != nil {
			return "", fmt.Errorf("replace key pair %s: %w", name, err)
		}
		c.Say("key pair %s: holds another key than %s.pub; replacing it (instances made before keep the old key)", name, c.KeyFile)
	}
	_, err = cli.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{
		KeyName:           aws.String(name),
		PublicKeyMaterial: []byte(c.PublicKey),
		TagSpecifications: []types.TagSpecification{pl.tagSpec(types.ResourceTypeKeyPair, name)},
	})
	if errCode(err) == "InvalidKeyPair.Duplicate" {
		return "", fmt.Errorf("a key pair named %s exists in %s and is not this cluster's (it lacks the tag %s=%s): delete it or rename the cluster", name, pl.region, TagCluster, c.Name)
	}
	if err != nil {
		return "", fmt.Errorf("import key pair %s: %w", name, err)
	}
	c.Changed("key pair %s: imported %s.pub", name, c.KeyFile)
	return name, nil
}

// cloudConfig is the user data of an instance: its host name, and the
// cluster's key for a login user other than the image's own.
func cloudConfig(in *platforms.Instance, pub string) string {
	var b strings.Builder
	b.WriteString("#cloud-config\n")
	fmt.Fprintf(&b, "hostname: %s\npreserve_hostname: false\n", in.Name)
	switch in.User {
	case "admin", "":
	case "root":
		b.WriteString("disable_root: false\n")
	default:
		fmt.Fprintf(&b, "users:\n  - default\n  - name: %s\n    shell: /bin/bash\n    sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n    ssh_authorized_keys:\n      - %q\n", in.User, pub)
	}
	return b.String()
}

func blockDevices(pl *plan, img types.Image) []types.BlockDeviceMapping {
	var out []types.BlockDeviceMapping
	for _, v := range pl.volumes {
		dev := v.device
		if dev == "root" {
			dev = aws.ToString(img.RootDeviceName)
			if dev == "" {
				dev = "/dev/xvda"
			}
		}
		ebs := &types.EbsBlockDevice{VolumeSize: aws.Int32(v.size), DeleteOnTermination: aws.Bool(true)}
		if v.volumeType != "" {
			ebs.VolumeType = types.VolumeType(v.volumeType)
		}
		if v.iops > 0 {
			ebs.Iops = aws.Int32(v.iops)
		}
		if v.throughput > 0 {
			ebs.Throughput = aws.Int32(v.throughput)
		}
		if v.encrypted {
			ebs.Encrypted = aws.Bool(true)
		}
		out = append(out, types.BlockDeviceMapping{DeviceName: aws.String(dev), Ebs: ebs})
	}
	return out
}

// ensureInstances makes the missing instances, starts stopped ones, and
// waits until each runs, answers on port 22, and (when just made) has
// printed its host keys.
func (p *Provisioner) ensureInstances(ctx context.Context, cli *ec2.Client, c *platforms.Cluster, pl *plan, existing map[string]types.Instance, images map[string]types.Image, subnets map[netip.Prefix]string, sgID, keyName string) ([]platforms.Host, error) {
	ids := make([]string, len(c.Instances))
	fresh := make([]bool, len(c.Instances))
	var toStart []string
	for i, in := range c.Instances {
		if e, ok := existing[in.Name]; ok {
			ids[i] = aws.ToString(e.InstanceId)
			state := string(e.State.Name)
			if t := string(e.InstanceType); t != pl.types[in.Name] {
				c.Say("instance %s (%s): type %s, config.yml says %s (left as it is; deprovision and provision again to change it)", in.Name, ids[i], t, pl.types[in.Name])
			}
			switch state {
			case "stopped":
				toStart = append(toStart, ids[i])
			case "stopping":
				fresh[i] = true
				c.Say("instance %s (%s): stopping; it is started once stopped", in.Name, ids[i])
			case "pending":
				// Launched by a run that did not see it boot.
				fresh[i] = true
				c.Say("instance %s (%s): pending", in.Name, ids[i])
			default:
				c.Say("instance %s (%s): %s", in.Name, ids[i], state)
			}
			continue
		}
		img := images[in.Name]
		ni := types.InstanceNetworkInterfaceSpecification{
			DeviceIndex:              aws.Int32(0),
			SubnetId:                 aws.String(subnets[pl.subnetOf[in.Name]]),
			Groups:                   []string{sgID},
			AssociatePublicIpAddress: aws.Bool(true),
			DeleteOnTermination:      aws.Bool(true),
		}
		if in.IPAddress != "" {
			ni.PrivateIpAddress = aws.String(in.IPAddress)
		}
		input := &ec2.RunInstancesInput{
			ImageId:             img.ImageId,
			InstanceType:        types.InstanceType(pl.types[in.Name]),
			MinCount:            aws.Int32(1),
			MaxCount:            aws.Int32(1),
			KeyName:             aws.String(keyName),
			NetworkInterfaces:   []types.InstanceNetworkInterfaceSpecification{ni},
			BlockDeviceMappings: blockDevices(pl, img),
			UserData:            aws.String(base64.StdEncoding.EncodeToString([]byte(cloudConfig(in, c.PublicKey)))),
			MetadataOptions:     &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateRequired},
			TagSpecifications: []types.TagSpecification{
				pl.tagSpec(types.ResourceTypeInstance, in.Name, TagInstance, in.Name),
				pl.tagSpec(types.ResourceTypeVolume, in.Name, TagInstance, in.Name),
			},
		}
		var out *ec2.RunInstancesOutput
		err := p.retry(ctx, time.Minute, func(code string) bool {
			// A key pair or security group just made may not be seen yet.
			return notFound(code) || code == "InvalidKeyPair.NotFound"
		}, func() (err error) {
			out, err = cli.RunInstances(ctx, input)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("instance %s: run %s from %s: %w", in.Name, pl.types[in.Name], aws.ToString(img.ImageId), err)
		}
		if len(out.Instances) != 1 {
			return nil, fmt.Errorf("instance %s: RunInstances returned %d instances", in.Name, len(out.Instances))
		}
		ids[i] = aws.ToString(out.Instances[0].InstanceId)
		fresh[i] = true
		c.Changed("instance %s (%s): launched, %s from %s", in.Name, ids[i], pl.types[in.Name], aws.ToString(img.ImageId))
	}
	if len(toStart) > 0 {
		if _, err := cli.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: toStart}); err != nil {
			return nil, fmt.Errorf("start %s: %w", strings.Join(toStart, ", "), err)
		}
		for i, id := range ids {
			if slices.Contains(toStart, id) {
				fresh[i] = true
				c.Changed("instance %s (%s): was stopped, started", c.Instances[i].Name, id)
			}
		}
	}

	ctx, cancel := context.WithTimeout(ctx, p.bootWait())
	defer cancel()
	running, err := p.waitRunning(ctx, cli, c, ids)
	if err != nil {
		return nil, err
	}
	hosts := make([]platforms.Host, len(c.Instances))
	errs := make([]error, len(c.Instances))
	var wg sync.WaitGroup
	for i, in := range c.Instances {
		inst := running[ids[i]]
		pub := aws.ToString(inst.PublicIpAddress)
		hosts[i] = platforms.Host{Name: in.Name, Address: pub, Port: 22, User: in.User}
		// The roles reach each other at ip_address: the private one.
		if priv := aws.ToString(inst.PrivateIpAddress); c.Config.Instances[in.Index].IPAddress == "" && priv != "" {
			c.Config.Instances[in.Index].IPAddress = priv
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys, err := p.hostReady(ctx, cli, ids[i], pub, fresh[i])
			hosts[i].HostKeys = keys
			if err != nil {
				errs[i] = fmt.Errorf("instance %s (%s, %s): %w", in.Name, ids[i], pub, err)
				return
			}
			if keys == nil {
				c.Say("instance %s (%s): host keys no longer on the console; known_hosts must have them", in.Name, pub)
			} else {
				c.Say("instance %s (%s): ready, %d host keys from the console", in.Name, pub, len(keys))
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return hosts, nil
}

// waitRunning waits until every instance runs with a public address,
// starting those that were stopping once they have stopped.
func (p *Provisioner) waitRunning(ctx context.Context, cli *ec2.Client, c *platforms.Cluster, ids []string) (map[string]types.Instance, error) {
	for {
		list, err := p.describeByID(ctx, cli, ids)
		if err != nil {
			return nil, err
		}
		got := map[string]types.Instance{}
		var waiting []string
		for _, inst := range list {
			id := aws.ToString(inst.InstanceId)
			got[id] = inst
			switch inst.State.Name {
			case types.InstanceStateNameRunning:
				if aws.ToString(inst.PublicIpAddress) == "" {
					waiting = append(waiting, id+" (no public address yet)")
				}
			case types.InstanceStateNameStopped:
				if _, err := cli.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
					return nil, fmt.Errorf("start %s: %w", id, err)
				}
				c.Changed("instance %s: stopped, started", id)
				waiting = append(waiting, id+" (stopped)")
			case types.InstanceStateNameShuttingDown, types.InstanceStateNameTerminated:
				reason := ""
				if inst.StateReason != nil {
					reason = ": " + aws.ToString(inst.StateReason.Message)
				}
				return nil, fmt.Errorf("instance %s is %s%s", id, inst.State.Name, reason)
			default:
				waiting = append(waiting, id+" ("+string(inst.State.Name)+")")
			}
		}
		for _, id := range ids {
			if _, ok := got[id]; !ok {
				waiting = append(waiting, id+" (not listed yet)")
			}
		}
		if len(waiting) == 0 {
			return got, nil
		}
		if err := sleep(ctx, p.poll()); err != nil {
			return nil, fmt.Errorf("instances not running after %s: %s", p.bootWait(), strings.Join(waiting, ", "))
		}
	}
}

func (p *Provisioner) describeByID(ctx context.Context, cli *ec2.Client, ids []string) ([]types.Instance, error) {
	var list []types.Instance
	err := p.retry(ctx, time.Minute, notFound, func() (err error) {
		list, err = describeInstances(ctx, cli, &ec2.DescribeInstancesInput{InstanceIds: ids})
		return err
	})
	return list, err
}

// hostReady waits until the host answers on port 22 and reads its host
// keys from its console. A fresh instance must print them (cloud-init does
// at first boot); an older one may have scrolled them away, and then nil
// is returned: known_hosts has them from the first time.
func (p *Provisioner) hostReady(ctx context.Context, cli *ec2.Client, id, pub string, fresh bool) ([]ssh.PublicKey, error) {
	if err := p.waitSSH(ctx, net.JoinHostPort(pub, "22")); err != nil {
		return nil, err
	}
	latest := true
	for {
		out, err := cli.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id), Latest: aws.Bool(latest)})
		if err != nil && latest && ctx.Err() == nil {
			// Only Nitro instances have the latest output; others the
			// output as last buffered.
			latest = false
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("no host keys on the console after %s: %w", p.bootWait(), err)
			}
			return nil, fmt.Errorf("read the console: %w", err)
		}
		text, _ := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
		if keys, ok := ParseHostKeys(string(text)); ok {
			return keys, nil
		}
		if !fresh {
			return nil, nil
		}
		if err := sleep(ctx, p.poll()); err != nil {
			return nil, fmt.Errorf("no host keys on the console after %s (cloud-init prints them between %s and %s)", p.bootWait(), beginHostKeys, endHostKeys)
		}
	}
}
