package aws

import (
	"fmt"
	"slices"
	"strings"
)

// Regions are the AWS regions tpago knows (commercial, GovCloud, China).
var Regions = []string{
	"af-south-1",
	"ap-east-1", "ap-east-2",
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
	"ca-central-1", "ca-west-1",
	"cn-north-1", "cn-northwest-1",
	"eu-central-1", "eu-central-2",
	"eu-north-1",
	"eu-south-1", "eu-south-2",
	"eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1",
	"me-central-1", "me-south-1",
	"mx-central-1",
	"sa-east-1",
	"us-east-1", "us-east-2",
	"us-gov-east-1", "us-gov-west-1",
	"us-west-1", "us-west-2",
}

// CheckRegion says whether region is one of Regions; the error names the
// closest ones.
func CheckRegion(region string) error {
	if slices.Contains(Regions, region) {
		return nil
	}
	// The regions of the same area (eu-west-, then eu-), or all of them.
	var near []string
	for _, cut := range []int{strings.LastIndex(region, "-"), strings.Index(region, "-")} {
		if cut <= 0 || len(near) > 0 {
			continue
		}
		for _, r := range Regions {
			if strings.HasPrefix(r, region[:cut+1]) {
				near = append(near, r)
			}
		}
	}
	if len(near) == 0 {
		near = Regions
	}
	return fmt.Errorf("unknown AWS region %q (known: %s)", region, strings.Join(near, ", "))
}
