variable "account_id" {
  description = "Cloudflare account id."
  type        = string
}

variable "zone_id" {
  description = "Id of the Cloudflare zone the gateway and its origins live in."
  type        = string
}

variable "zone_name" {
  description = "Name of that zone, e.g. example.com. Origins are origin-<region>.<zone_name>."
  type        = string
}

variable "workers" {
  description = <<-EOT
    The gateway Workers, by key: one per wrangler environment (the top-level one and e.g. [env.eu]).
    script_name: the name wrangler deploys under (wrangler.toml's name, or the env's name).
    hostname: its public API hostname (a Workers custom domain).
    regional_services: a Cloudflare Regional Services region key (e.g. "eu") to keep TLS
      termination and processing of that hostname in the region (Data Localization Suite).
    bundle_path / main_module: the bundle from `npx wrangler deploy --dry-run [--env <env>]
      --outdir <dir>`, uploaded when Terraform creates the Worker or changes its bindings.
    vars / crons: keep them equal to wrangler.toml's [vars] / [triggers] of that environment.
    queues: queue producer bindings, binding name => queue name (USAGE_EVENTS, USAGE_EVENTS_EU:
      wrangler.toml's [[queues.producers]]).
    hyperdrive: Hyperdrive bindings, binding name => Hyperdrive config id (USAGE_DB: the
      usage-events module's hyperdrive_ids; wrangler.toml's [[hyperdrive]] id).
  EOT
  type = map(object({
    script_name       = string
    hostname          = string
    regional_services = optional(string)
    bundle_path       = string
    main_module       = optional(string, "gateway.js")
    vars              = optional(map(string), {})
    crons             = optional(list(string), [])
    routes            = optional(list(string), [])
    queues            = optional(map(string), {})
    hyperdrive        = optional(map(string), {})
  }))

  validation {
    condition     = length(var.workers) > 0
    error_message = "At least one Worker."
  }
}

variable "compatibility_date" {
  description = "Workers compatibility date; keep it equal to wrangler.toml's."
  type        = string
}

variable "compatibility_flags" {
  description = "Workers compatibility flags; keep them equal to wrangler.toml's."
  type        = list(string)
  default     = ["enable_request_signal", "nodejs_compat"]
}

variable "openai_api_key" {
  description = "Worker secret OPENAI_API_KEY."
  type        = string
  sensitive   = true
}

variable "azure_openai_api_key" {
  description = "Worker secret AZURE_OPENAI_API_KEY."
  type        = string
  sensitive   = true
}

variable "upstash_redis" {
  description = "Worker secrets UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN (the upstash module's rest_url and rest_token), by Worker key: each Worker may have its own database (an EU-only Worker an EU-only one)."
  type = map(object({
    rest_url   = string
    rest_token = string
  }))
  sensitive = true
}

variable "origin_signing_keys" {
  description = "Worker secret ORIGIN_SIGNING_KEYS: the HMAC keys (with key ids) the edge signs origin requests with; the origins get the same value."
  type        = string
  sensitive   = true
}

variable "admin_token" {
  description = "Worker secret ADMIN_TOKEN (the gateway's admin API)."
  type        = string
  sensitive   = true
}

variable "origins" {
  description = <<-EOT
    The regional origins, by region key (us-east, eu-west, ap-south). Each gets the DNS name
    origin-<key>.<zone_name>, an Origin CA certificate, authenticated origin pulls, a health
    monitor and a load-balancer pool. steering_regions / steering_countries are the Cloudflare
    load-balancer region codes (WNAM, ENAM, WEU, EEU, SAS, SEAS, NEAS, OC, ME, NAF, SAF, NSAM,
    SSAM) and ISO country codes for which this origin is the first choice; failover lists the
    other origins to try next, in order. check_regions are where Cloudflare health checks run.
    regional_services (e.g. "eu") keeps Cloudflare's handling of the origin hostname in that
    region (Regional Services).
  EOT
  type = map(object({
    latitude           = number
    longitude          = number
    regional_services  = optional(string)
    check_regions      = list(string)
    steering_regions   = list(string)
    steering_countries = optional(list(string), [])
    failover           = list(string)
  }))

  validation {
    condition = alltrue(flatten([
      for key, origin in var.origins : [for other in origin.failover : contains(keys(var.origins), other) && other != key]
    ]))
    error_message = "Every failover entry must name another origin of this map."
  }
}

variable "origin_lb_hostnames" {
  description = "DNS name of each region's public load balancer (the regional-origin module's origin_lb_dns_name), by region key."
  type        = map(string)
}

variable "origin_health_port" {
  description = "Port of the origins' health listener (HTTPS without client certificates, serves only /health/ready)."
  type        = number
  default     = 8443
}

variable "default_origin" {
  description = "Origin whose pool order is used for locations no steering rule covers."
  type        = string
}

variable "fallback_origin" {
  description = "Origin whose pool is used when every pool is unhealthy."
  type        = string
}

variable "load_balancer_hostname" {
  description = "Hostname of the geo-steered load balancer over all origins (the fallback path); defaults to origin.<zone_name>."
  type        = string
  default     = null
}

variable "manage_zone_ssl_mode" {
  description = "Set the zone's SSL mode to Full (strict), which Origin CA certificates on the origins need. Turn off if the zone's SSL mode is managed elsewhere."
  type        = bool
  default     = true
}
