terraform {
  # 1.11: the S3 backend's native locking (use_lockfile = true, see ../../README.md) is GA there.
  required_version = ">= 1.11"

  # Remote state: an S3 bucket with versioning and encryption, locking with an S3 lock file.
  # The state holds secrets (Worker secrets, TLS private keys, the Upstash token): restrict the
  # bucket to the operators and CI. Configure at init time, see ../../README.md.
  backend "s3" {}

  required_providers {
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "~> 5.22"
    }
    upstash = {
      source  = "upstash/upstash"
      version = "~> 2.0"
    }
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.28"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 3.1"
    }
    kustomization = {
      source  = "kbst/kustomization"
      version = "~> 0.9.8"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.1"
    }
  }
}
