output "cluster_name" {
  description = "EKS cluster name."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "EKS API endpoint."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA bundle of the EKS API."
  value       = module.eks.cluster_certificate_authority_data
}

output "kubeconfig" {
  description = "A kubeconfig for this cluster that authenticates with `aws eks get-token` (no secret in it); used by the environment root's kustomization provider."
  value = yamlencode({
    apiVersion      = "v1"
    kind            = "Config"
    current-context = module.eks.cluster_name
    clusters = [{
      name = module.eks.cluster_name
      cluster = {
        server                     = module.eks.cluster_endpoint
        certificate-authority-data = module.eks.cluster_certificate_authority_data
      }
    }]
    contexts = [{
      name = module.eks.cluster_name
      context = {
        cluster = module.eks.cluster_name
        user    = module.eks.cluster_name
      }
    }]
    users = [{
      name = module.eks.cluster_name
      user = {
        exec = {
          apiVersion = "client.authentication.k8s.io/v1beta1"
          command    = "aws"
          args       = ["eks", "get-token", "--cluster-name", module.eks.cluster_name, "--region", var.aws_region]
        }
      }
    }]
  })
}

output "origin_lb_dns_name" {
  description = "DNS name of the origin's public load balancer (the edge's DNS record and pool point at it)."
  value       = aws_lb.origin.dns_name
}

output "model_bucket" {
  description = "S3 bucket to upload this region's model weights to (s3://<bucket>/<model name>/)."
  value       = aws_s3_bucket.models.bucket
}

output "vpc_id" {
  description = "VPC id."
  value       = module.vpc.vpc_id
}

output "load_balancer_source_cidr" {
  description = "CIDR the router's NetworkPolicy admits as the edge path (the public subnets)."
  value       = local.load_balancer_source_cidr
}
