package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/tpago/tpago/platforms"
)

// Deprovision removes what carries the cluster's tag, and nothing else:
// its instances (waiting until they are terminated), security group,
// subnets, route table, internet gateway, VPC and key pair. A VPC that
// config.yml named and tpago did not make stays.
func (p *Provisioner) Deprovision(ctx context.Context, c *platforms.Cluster) ([]string, error) {
	region := c.Config.InstanceDefaults.Region
	if region == "" {
		return nil, fmt.Errorf("%s: instance_defaults.region: the aws platform needs a region (like eu-west-1)", c.Where("$.instance_defaults"))
	}
	if err := CheckRegion(region); err != nil {
		return nil, fmt.Errorf("%s: instance_defaults.region: %w", c.Where("$.instance_defaults.region"), err)
	}
	cli, err := p.client(ctx, region)
	if err != nil {
		return nil, err
	}
	var removed []string
	done := func(what string) {
		c.Changed("%s: removed", what)
		removed = append(removed, what)
	}
	cf := []types.Filter{clusterFilter(c.Name)}

	// Instances, and the wait until they are gone.
	insts, err := describeInstances(ctx, cli, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		clusterFilter(c.Name),
		filter("instance-state-name", "pending", "running", "stopping", "stopped", "shutting-down"),
	}})
	if err != nil {
		return nil, err
	}
	if len(insts) > 0 {
		var ids []string
		names := map[string]string{}
		for _, i := range insts {
			id := aws.ToString(i.InstanceId)
			ids = append(ids, id)
			names[id] = tagValue(i.Tags, TagInstance)
		}
		if _, err := cli.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
			return nil, fmt.Errorf("terminate %s: %w", strings.Join(ids, ", "), err)
		}
		c.Say("instances %s: terminating", strings.Join(ids, ", "))
		if err := p.waitTerminated(ctx, cli, ids); err != nil {
			return nil, err
		}
		for _, id := range ids {
			done(fmt.Sprintf("instance %s (%s)", names[id], id))
		}
	}

	var errs []error
	// Security groups: in use until the instances' interfaces are gone.
	sgs, err := cli.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: cf})
	if err != nil {
		return removed, fmt.Errorf("list security groups: %w", err)
	}
	for _, sg := range sgs.SecurityGroups {
		id := aws.ToString(sg.GroupId)
		err := p.retry(ctx, p.deleteWait(), inUse, func() error {
			_, err := cli.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
			return err
		})
		if err != nil && !notFound(errCode(err)) {
			errs = append(errs, fmt.Errorf("delete security group %s: %w", id, err))
			continue
		}
		done("security group " + id)
	}

	subnets, err := cli.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: cf})
	if err != nil {
		return removed, fmt.Errorf("list subnets: %w", err)
	}
	for _, s := range subnets.Subnets {
		id := aws.ToString(s.SubnetId)
		err := p.retry(ctx, p.deleteWait(), inUse, func() error {
			_, err := cli.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(id)})
			return err
		})
		if err != nil && !notFound(errCode(err)) {
			errs = append(errs, fmt.Errorf("delete subnet %s (%s): %w", id, aws.ToString(s.CidrBlock), err))
			continue
		}
		done(fmt.Sprintf("subnet %s (%s)", id, aws.ToString(s.CidrBlock)))
	}

	rts, err := cli.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: cf})
	if err != nil {
		return removed, fmt.Errorf("list route tables: %w", err)
	}
	for _, rt := range rts.RouteTables {
		id := aws.ToString(rt.RouteTableId)
		for _, a := range rt.Associations {
			if aws.ToBool(a.Main) || a.RouteTableAssociationId == nil {
				continue
			}
			if _, err := cli.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: a.RouteTableAssociationId}); err != nil && !notFound(errCode(err)) {
				errs = append(errs, fmt.Errorf("route table %s: disassociate %s: %w", id, aws.ToString(a.SubnetId), err))
			}
		}
		if _, err := cli.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(id)}); err != nil && !notFound(errCode(err)) {
			errs = append(errs, fmt.Errorf("delete route table %s: %w", id, err))
			continue
		}
		done("route table " + id)
	}

	igws, err := cli.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: cf})
	if err != nil {
		return removed, fmt.Errorf("list internet gateways: %w", err)
	}
	for _, g := range igws.InternetGateways {
		id := aws.ToString(g.InternetGatewayId)
		failed := false
		for _, a := range g.Attachments {
			err := p.retry(ctx, p.deleteWait(), inUse, func() error {
				_, err := cli.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: aws.String(id), VpcId: a.VpcId})
				return err
			})
			if err != nil && !notFound(errCode(err)) && errCode(err) != "Gateway.NotAttached" {
				errs = append(errs, fmt.Errorf("detach internet gateway %s from %s: %w", id, aws.ToString(a.VpcId), err))
				failed = true
			}
		}
		if failed {
			continue
		}
		if _, err := cli.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: aws.String(id)}); err != nil && !notFound(errCode(err)) {
			errs = append(errs, fmt.Errorf("delete internet gateway %s: %w", id, err))
			continue
		}
		done("internet gateway " + id)
	}

	vpcs, err := cli.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: cf})
	if err != nil {
		return removed, fmt.Errorf("list VPCs: %w", err)
	}
	for _, v := range vpcs.Vpcs {
		id := aws.ToString(v.VpcId)
		err := p.retry(ctx, p.deleteWait(), inUse, func() error {
			_, err := cli.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(id)})
			return err
		})
		if err != nil && !notFound(errCode(err)) {
			errs = append(errs, fmt.Errorf("delete VPC %s: %w", id, err))
			continue
		}
		done(fmt.Sprintf("vpc %s (%s)", id, aws.ToString(v.CidrBlock)))
	}

	keys, err := cli.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: cf})
	if err != nil {
		return removed, fmt.Errorf("list key pairs: %w", err)
	}
	for _, k := range keys.KeyPairs {
		if _, err := cli.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyPairId: k.KeyPairId}); err != nil && !notFound(errCode(err)) {
			errs = append(errs, fmt.Errorf("delete key pair %s: %w", aws.ToString(k.KeyName), err))
			continue
		}
		done("key pair " + aws.ToString(k.KeyName))
	}
	if len(removed) == 0 && len(errs) == 0 {
		c.Say("deprovision: nothing of cluster %s is left in %s", c.Name, region)
	}
	return removed, errors.Join(errs...)
}

// waitTerminated waits until none of the instances is left but terminated.
func (p *Provisioner) waitTerminated(ctx context.Context, cli *ec2.Client, ids []string) error {
	ctx, cancel := context.WithTimeout(ctx, p.deleteWait())
	defer cancel()
	for {
		list, err := p.describeByID(ctx, cli, ids)
		if err != nil {
			return err
		}
		var left []string
		for _, i := range list {
			if i.State.Name != types.InstanceStateNameTerminated {
				left = append(left, aws.ToString(i.InstanceId)+" ("+string(i.State.Name)+")")
			}
		}
		if len(left) == 0 {
			return nil
		}
		if err := sleep(ctx, p.poll()); err != nil {
			return fmt.Errorf("instances not terminated after %s: %s", p.deleteWait(), strings.Join(left, ", "))
		}
	}
}
