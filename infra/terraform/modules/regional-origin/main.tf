data "aws_caller_identity" "current" {}

data "aws_availability_zones" "available" {
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

locals {
  name = "${var.name_prefix}-${var.region_key}"
  azs  = slice(data.aws_availability_zones.available.names, 0, 3)

  private_subnets = [for i in range(3) : cidrsubnet(var.vpc_cidr, 2, i)]
  public_subnets  = [for i in range(3) : cidrsubnet(var.vpc_cidr, 8, 192 + i)]
  # The /22 around the public subnets: where the load balancer's addresses come from, as the
  # router's NetworkPolicy sees them (the overlays carry the same value as a placeholder).
  load_balancer_source_cidr = cidrsubnet(var.vpc_cidr, 6, 48)

  # S3 names are global: suffix the account id.
  model_bucket_name = coalesce(var.model_bucket_name, "${var.name_prefix}-models-${var.aws_region}-${data.aws_caller_identity.current.account_id}")

  tags = merge(var.tags, {
    "llm-gateway/region"         = var.region_key
    "llm-gateway/residency-zone" = var.residency_zone
  })
}

################################################################################
# Network
################################################################################

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "6.6.0"

  name = local.name
  cidr = var.vpc_cidr
  azs  = local.azs

  private_subnets = local.private_subnets
  public_subnets  = local.public_subnets

  enable_nat_gateway     = true
  one_nat_gateway_per_az = true

  public_subnet_tags = {
    "kubernetes.io/role/elb" = 1
  }
  private_subnet_tags = {
    "kubernetes.io/role/internal-elb" = 1
  }

  tags = local.tags
}

################################################################################
# EKS cluster with a CPU node group (router, add-ons) and a GPU node group (pools)
################################################################################

module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "21.19.0"

  name               = local.name
  kubernetes_version = var.kubernetes_version

  endpoint_public_access                   = true
  endpoint_public_access_cidrs             = var.cluster_endpoint_public_access_cidrs
  enable_cluster_creator_admin_permissions = true

  vpc_id     = module.vpc.vpc_id
  subnet_ids = module.vpc.private_subnets

  addons = {
    coredns = {}
    kube-proxy = {
      before_compute = true
    }
    eks-pod-identity-agent = {
      before_compute = true
    }
    vpc-cni = {
      before_compute = true
      # Enforce Kubernetes NetworkPolicies (the router's and the pools' policies in infra/k8s).
      configuration_values = jsonencode({
        enableNetworkPolicy = "true"
      })
    }
    aws-ebs-csi-driver = {
      pod_identity_association = [{
        role_arn        = module.ebs_csi_pod_identity.iam_role_arn
        service_account = "ebs-csi-controller-sa"
      }]
    }
    metrics-server = {}
  }

  eks_managed_node_groups = {
    router = {
      ami_type       = "AL2023_x86_64_STANDARD"
      instance_types = var.router_instance_types
      min_size       = var.router_nodes.min
      max_size       = var.router_nodes.max
      desired_size   = var.router_nodes.desired

      labels = {
        "llm-gateway/node-role" = "router"
      }
    }

    gpu = {
      # The EKS AL2023 NVIDIA AMI carries the driver and container toolkit; the device plugin
      # (addons.tf) advertises nvidia.com/gpu.
      ami_type       = "AL2023_x86_64_NVIDIA"
      instance_types = var.gpu_instance_types
      min_size       = var.gpu_nodes.min
      max_size       = var.gpu_nodes.max
      desired_size   = var.gpu_nodes.desired

      block_device_mappings = {
        xvda = {
          device_name = "/dev/xvda"
          ebs = {
            volume_size           = var.gpu_node_disk_gib
            volume_type           = "gp3"
            encrypted             = true
            delete_on_termination = true
          }
        }
      }

      labels = {
        "llm-gateway/node-role"  = "gpu-pool"
        "nvidia.com/gpu.present" = "true"
      }

      # Only pods that tolerate this (the GPU pools, the device plugin, dcgm-exporter) land here.
      taints = {
        gpu = {
          key    = "nvidia.com/gpu"
          value  = "true"
          effect = "NO_SCHEDULE"
        }
      }
    }
  }

  tags = local.tags
}
