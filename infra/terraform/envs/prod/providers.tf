# Cloudflare: the API token comes from CLOUDFLARE_API_TOKEN (Workers Scripts, Workers Routes,
# DNS, Load Balancers, Load Balancing: Monitors and Pools, SSL and Certificates, Zone Settings).
provider "cloudflare" {}

provider "upstash" {
  email   = var.upstash_email
  api_key = var.upstash_api_key
}

# One AWS provider per region; each regional-origin module gets its own.
provider "aws" {
  alias  = "us_east"
  region = "us-east-1"

  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias  = "eu_west"
  region = "eu-west-1"

  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias  = "ap_south"
  region = "ap-south-1"

  default_tags {
    tags = local.tags
  }
}

# Kubernetes access to each region's cluster, authenticated with `aws eks get-token` (the
# operator's or CI's AWS identity must be a cluster admin: the creator is, see the module).
provider "helm" {
  alias = "us_east"

  kubernetes = {
    host                   = module.origin_us_east.cluster_endpoint
    cluster_ca_certificate = base64decode(module.origin_us_east.cluster_certificate_authority_data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.origin_us_east.cluster_name, "--region", "us-east-1"]
    }
  }
}

provider "helm" {
  alias = "eu_west"

  kubernetes = {
    host                   = module.origin_eu_west.cluster_endpoint
    cluster_ca_certificate = base64decode(module.origin_eu_west.cluster_certificate_authority_data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.origin_eu_west.cluster_name, "--region", "eu-west-1"]
    }
  }
}

provider "helm" {
  alias = "ap_south"

  kubernetes = {
    host                   = module.origin_ap_south.cluster_endpoint
    cluster_ca_certificate = base64decode(module.origin_ap_south.cluster_certificate_authority_data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.origin_ap_south.cluster_name, "--region", "ap-south-1"]
    }
  }
}

provider "kustomization" {
  alias          = "us_east"
  kubeconfig_raw = module.origin_us_east.kubeconfig
}

provider "kustomization" {
  alias          = "eu_west"
  kubeconfig_raw = module.origin_eu_west.kubeconfig
}

provider "kustomization" {
  alias          = "ap_south"
  kubeconfig_raw = module.origin_ap_south.kubeconfig
}
