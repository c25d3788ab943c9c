output "gateway_urls" {
  description = "Public base URL of each gateway Worker (global, eu)."
  value       = module.edge.gateway_urls
}

output "origin_hostnames" {
  description = "Hostname of each regional origin (for the gateway config's self-hosted providers)."
  value       = module.edge.origin_hostnames
}

output "load_balancer_hostname" {
  description = "Geo-steered hostname over all origins (fallback path)."
  value       = module.edge.load_balancer_hostname
}

output "clusters" {
  description = "EKS cluster of each region (aws eks update-kubeconfig --name <name> --region <region>)."
  value = {
    us-east  = module.origin_us_east.cluster_name
    eu-west  = module.origin_eu_west.cluster_name
    ap-south = module.origin_ap_south.cluster_name
  }
}

output "model_buckets" {
  description = "Where to upload each region's model weights (s3://<bucket>/<model name>/)."
  value = {
    us-east  = module.origin_us_east.model_bucket
    eu-west  = module.origin_eu_west.model_bucket
    ap-south = module.origin_ap_south.model_bucket
  }
}

output "upstash_endpoints" {
  description = "Upstash Redis endpoints (global, eu)."
  value = {
    global = module.upstash.endpoint
    eu     = module.upstash_eu.endpoint
  }
}

output "usage_hyperdrive_ids" {
  description = "Hyperdrive config id of each usage database (global, eu): put them in wrangler.toml's and workers/usage-consumer.wrangler.toml's [[hyperdrive]] id (see infra/terraform/README.md)."
  value       = module.usage_events.hyperdrive_ids
}

output "usage_queues" {
  description = "The usage-event queues (events and dead-letter) of each pipeline."
  value = {
    events       = module.usage_events.queue_names
    dead_letters = module.usage_events.dead_letter_queue_names
  }
}
