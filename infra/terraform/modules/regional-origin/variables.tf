variable "region_key" {
  description = "Short name of the region in the gateway (us-east, eu-west, ap-south): names resources and picks the kustomize overlay."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+$", var.region_key))
    error_message = "region_key looks like us-east."
  }
}

variable "aws_region" {
  description = "AWS region of this origin (must match the aws provider passed to the module)."
  type        = string
}

variable "residency_zone" {
  description = "Data-residency zone served by this region (us, eu, apac); labels every Kubernetes object."
  type        = string

  validation {
    condition     = contains(["us", "eu", "apac"], var.residency_zone)
    error_message = "residency_zone is one of us, eu, apac."
  }

  validation {
    # EU-resident data stays in EU locations: an "eu" origin must run in an EU AWS region.
    condition     = var.residency_zone != "eu" || startswith(var.aws_region, "eu-")
    error_message = "An origin for residency zone eu must be in an eu-* AWS region."
  }
}

variable "name_prefix" {
  description = "Prefix of AWS resource names."
  type        = string
  default     = "llm-gateway"
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version."
  type        = string
  default     = "1.35"
}

variable "vpc_cidr" {
  description = "CIDR of the region's VPC (a /16). Private subnets take the first three /18s, public subnets 3 /24s from .192.0 (the load balancer lives there)."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && endswith(var.vpc_cidr, "/16")
    error_message = "vpc_cidr must be a /16."
  }
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "Networks allowed to reach the EKS API endpoint (operators, CI)."
  type        = list(string)
}

variable "router_instance_types" {
  description = "Instance types of the CPU node group (origin router and cluster add-ons)."
  type        = list(string)
  default     = ["m7i.xlarge", "m6i.xlarge"]
}

variable "router_nodes" {
  description = "Size of the CPU node group."
  type = object({
    min     = number
    max     = number
    desired = number
  })
  default = { min = 3, max = 12, desired = 3 }
}

variable "gpu_instance_types" {
  description = "Instance types of the GPU node group (NVIDIA Ada: g6e = L40S, g6 = L4; the TEI image tag assumes compute capability 8.9)."
  type        = list(string)
  default     = ["g6e.2xlarge"]
}

variable "gpu_nodes" {
  description = "Size of the GPU node group (one pool pod per GPU)."
  type = object({
    min     = number
    max     = number
    desired = number
  })
  default = { min = 2, max = 16, desired = 4 }
}

variable "gpu_node_disk_gib" {
  description = "Root volume of GPU nodes: the engine images are 10-25 GB each."
  type        = number
  default     = 200
}

variable "origin_hostname" {
  description = "Public hostname of this origin (origin-<region>.<zone>, from the edge module); names its certificate."
  type        = string
}

variable "origin_tls_certificate_pem" {
  description = "Server certificate of the origin's load balancer (Cloudflare Origin CA, from the edge module)."
  type        = string
}

variable "origin_tls_private_key_pem" {
  description = "Its private key."
  type        = string
  sensitive   = true
}

variable "edge_client_ca_pem" {
  description = "CA of the client certificate Cloudflare presents (authenticated origin pulls); the load balancer's mTLS trust store."
  type        = string
}

variable "edge_ingress_cidrs" {
  description = "Source networks allowed to reach the load balancer: Cloudflare's IP ranges."
  type        = list(string)
}

variable "origin_signing_keys" {
  description = "ORIGIN_SIGNING_KEYS: the HMAC keys the origin router verifies edge requests with (same value as the Worker secret)."
  type        = string
  sensitive   = true
}

variable "origin_image" {
  description = "Repository of the origin router image, without a tag (the overlays pin it): what .github/workflows/origin-image.yml pushes, ghcr.io/<repository owner>/llm-gateway-origin."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+$", var.origin_image)) && !strcontains(var.origin_image, "example")
    error_message = "origin_image is a registry/owner/name without a tag, e.g. ghcr.io/acme/llm-gateway-origin."
  }
}

variable "origin_image_pull_username" {
  description = "Registry user for pulling a private router image (with origin_image_pull_token; for GHCR a user with read:packages). null: the image is public, no pull secret."
  type        = string
  default     = null
}

variable "origin_image_pull_token" {
  description = "Password or token of origin_image_pull_username (for GHCR a personal access token with read:packages)."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = (var.origin_image_pull_token == null) == (var.origin_image_pull_username == null)
    error_message = "Set origin_image_pull_username and origin_image_pull_token together (private image), or neither (public image)."
  }
}

variable "model_bucket_name" {
  description = "S3 bucket holding the model weights of this region (created here). Defaults to <name_prefix>-models-<aws_region>-<account id>."
  type        = string
  default     = null
}

variable "kustomize_overlay_path" {
  description = "Path of this region's kustomize overlay (infra/k8s/overlays/<region_key>)."
  type        = string
}

variable "monitoring_path" {
  description = "Path of the monitoring kustomization (infra/monitoring)."
  type        = string
}

variable "tags" {
  description = "Tags for every AWS resource."
  type        = map(string)
  default     = {}
}
