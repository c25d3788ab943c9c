################################################################################
# Model weights: one bucket per region (EU weights stay in the EU region)
################################################################################

resource "aws_s3_bucket" "models" {
  bucket = local.model_bucket_name
  tags   = local.tags
}

resource "aws_s3_bucket_public_access_block" "models" {
  bucket                  = aws_s3_bucket.models.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "models" {
  bucket = aws_s3_bucket.models.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "models" {
  bucket = aws_s3_bucket.models.id

  versioning_configuration {
    status = "Enabled"
  }
}

################################################################################
# Workload identities (EKS Pod Identity)
################################################################################

# The pools' model-sync init containers (service account model-loader) read the model bucket.
module "model_loader_pod_identity" {
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "2.8.1"

  name = "${local.name}-model-loader"

  attach_custom_policy = true
  policy_statements = [
    {
      sid       = "ListModels"
      actions   = ["s3:ListBucket"]
      resources = [aws_s3_bucket.models.arn]
    },
    {
      sid       = "ReadModels"
      actions   = ["s3:GetObject"]
      resources = ["${aws_s3_bucket.models.arn}/*"]
    },
  ]

  associations = {
    model_loader = {
      cluster_name    = module.eks.cluster_name
      namespace       = "llm-origin"
      service_account = "model-loader"
    }
  }

  tags = local.tags
}

module "ebs_csi_pod_identity" {
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "2.8.1"

  name = "${local.name}-ebs-csi"

  attach_aws_ebs_csi_policy = true

  tags = local.tags
}

module "lb_controller_pod_identity" {
  source  = "terraform-aws-modules/eks-pod-identity/aws"
  version = "2.8.1"

  name = "${local.name}-aws-lbc"

  attach_aws_lb_controller_policy = true

  associations = {
    controller = {
      cluster_name    = module.eks.cluster_name
      namespace       = "kube-system"
      service_account = "aws-load-balancer-controller"
    }
  }

  tags = local.tags
}
