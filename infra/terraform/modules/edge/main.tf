locals {
  origin_hostnames = { for key in keys(var.origins) : key => "origin-${key}.${var.zone_name}" }
  lb_hostname      = coalesce(var.load_balancer_hostname, "origin.${var.zone_name}")

  # Secrets of each Worker, by binding name. Values only ever come from sensitive variables.
  worker_secrets = {
    for key in keys(var.workers) : key => {
      OPENAI_API_KEY           = var.openai_api_key
      AZURE_OPENAI_API_KEY     = var.azure_openai_api_key
      UPSTASH_REDIS_REST_URL   = var.upstash_redis[key].rest_url
      UPSTASH_REDIS_REST_TOKEN = var.upstash_redis[key].rest_token
      ORIGIN_SIGNING_KEYS      = var.origin_signing_keys
      ADMIN_TOKEN              = var.admin_token
    }
  }

  worker_bindings = {
    for key, worker in var.workers : key => concat(
      [for name in sort(keys(worker.vars)) : { name = name, type = "plain_text", text = worker.vars[name] }],
      [for name in sort(keys(local.worker_secrets[key])) : { name = name, type = "secret_text", text = local.worker_secrets[key][name] }],
      # Usage events (src/events) and the usage store (the admin request log).
      [for name in sort(keys(worker.queues)) : { name = name, type = "queue", queue_name = worker.queues[name] }],
      [for name in sort(keys(worker.hyperdrive)) : { name = name, type = "hyperdrive", id = worker.hyperdrive[name] }],
    )
  }

  worker_routes = merge([
    for key, worker in var.workers : { for pattern in worker.routes : pattern => key }
  ]...)

  regional_hostnames = merge(
    { for key, worker in var.workers : worker.hostname => worker.regional_services if worker.regional_services != null },
    { for key, origin in var.origins : local.origin_hostnames[key] => origin.regional_services if origin.regional_services != null },
  )
}

################################################################################
# The gateway Workers
################################################################################

# Terraform creates each Worker with its secrets and variables; releases of the code go through
# .github/workflows/deploy.yml (wrangler deploy), which keeps secret bindings. Terraform uploads
# the bundle only when it creates the script or changes a binding (a rotated secret): build the
# bundle from the commit that is deployed before applying.
resource "cloudflare_workers_script" "gateway" {
  for_each = var.workers

  account_id          = var.account_id
  script_name         = each.value.script_name
  content_file        = each.value.bundle_path
  content_sha256      = filesha256(each.value.bundle_path)
  main_module         = each.value.main_module
  compatibility_date  = var.compatibility_date
  compatibility_flags = var.compatibility_flags
  bindings            = local.worker_bindings[each.key]

  observability = {
    enabled = true
  }

  lifecycle {
    # wrangler deploy replaces the code between applies; do not roll it back.
    ignore_changes = [content_sha256]
  }
}

# The scheduled health probe (wrangler.toml [triggers] crons).
resource "cloudflare_workers_cron_trigger" "gateway" {
  for_each = { for key, worker in var.workers : key => worker if length(worker.crons) > 0 }

  account_id  = var.account_id
  script_name = cloudflare_workers_script.gateway[each.key].script_name
  schedules   = [for cron in each.value.crons : { cron = cron }]
}

resource "cloudflare_workers_custom_domain" "gateway" {
  for_each = var.workers

  account_id = var.account_id
  zone_id    = var.zone_id
  hostname   = each.value.hostname
  service    = cloudflare_workers_script.gateway[each.key].script_name
}

resource "cloudflare_workers_route" "gateway" {
  for_each = local.worker_routes

  zone_id = var.zone_id
  pattern = each.key
  script  = cloudflare_workers_script.gateway[each.value].script_name
}

# Regional Services (Data Localization Suite): TLS termination and processing of these
# hostnames only in Cloudflare data centers of the region (e.g. the EU Worker's API hostname
# and the EU origin).
resource "cloudflare_regional_hostname" "gateway" {
  for_each = local.regional_hostnames

  zone_id    = var.zone_id
  hostname   = each.key
  region_key = each.value
}

################################################################################
# Origin TLS: Cloudflare -> origin (server side)
################################################################################

# Origin CA certificates: trusted by Cloudflare only, which is all an origin behind the proxy
# needs. The regional-origin module imports each into ACM for its load balancer.
resource "cloudflare_zone_setting" "ssl" {
  count = var.manage_zone_ssl_mode ? 1 : 0

  zone_id    = var.zone_id
  setting_id = "ssl"
  value      = "strict"
}

resource "tls_private_key" "origin" {
  for_each = var.origins

  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_cert_request" "origin" {
  for_each = var.origins

  private_key_pem = tls_private_key.origin[each.key].private_key_pem
  dns_names       = [local.origin_hostnames[each.key], local.lb_hostname]

  subject {
    common_name  = local.origin_hostnames[each.key]
    organization = "LLM gateway origin ${each.key}"
  }
}

resource "cloudflare_origin_ca_certificate" "origin" {
  for_each = var.origins

  csr                = tls_cert_request.origin[each.key].cert_request_pem
  hostnames          = [local.origin_hostnames[each.key], local.lb_hostname]
  request_type       = "origin-ecc"
  requested_validity = 365
}

################################################################################
# Authenticated origin pulls: Cloudflare -> origin (client side, mTLS)
################################################################################

# A private CA whose only certificate is the client certificate Cloudflare presents to the
# origins (per-hostname authenticated origin pulls). The origins' load balancers trust only this
# CA, so a connection that does not come through this zone's proxy fails the TLS handshake.
# Behind that, the origin router also verifies the edge's HMAC signature on every request
# (ORIGIN_SIGNING_KEYS): mTLS proves "came through our Cloudflare zone", the signature proves
# "was sent by our Worker, recently, unaltered".
resource "tls_private_key" "edge_client_ca" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P384"
}

resource "tls_self_signed_cert" "edge_client_ca" {
  private_key_pem       = tls_private_key.edge_client_ca.private_key_pem
  is_ca_certificate     = true
  validity_period_hours = 24 * 365 * 5
  allowed_uses          = ["cert_signing", "crl_signing"]

  subject {
    common_name  = "LLM gateway edge client CA"
    organization = "LLM gateway"
  }
}

resource "tls_private_key" "edge_client" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_cert_request" "edge_client" {
  private_key_pem = tls_private_key.edge_client.private_key_pem

  subject {
    common_name  = "cloudflare-edge.${var.zone_name}"
    organization = "LLM gateway"
  }
}

resource "tls_locally_signed_cert" "edge_client" {
  cert_request_pem      = tls_cert_request.edge_client.cert_request_pem
  ca_private_key_pem    = tls_private_key.edge_client_ca.private_key_pem
  ca_cert_pem           = tls_self_signed_cert.edge_client_ca.cert_pem
  validity_period_hours = 24 * 365
  early_renewal_hours   = 24 * 30
  allowed_uses          = ["client_auth", "digital_signature"]
}

resource "cloudflare_authenticated_origin_pulls_hostname_certificate" "edge_client" {
  zone_id     = var.zone_id
  certificate = tls_locally_signed_cert.edge_client.cert_pem
  private_key = tls_private_key.edge_client.private_key_pem
}

resource "cloudflare_authenticated_origin_pulls" "origin" {
  for_each = toset(concat(values(local.origin_hostnames), [local.lb_hostname]))

  zone_id = var.zone_id
  config = [{
    hostname = each.value
    cert_id  = cloudflare_authenticated_origin_pulls_hostname_certificate.edge_client.id
    enabled  = true
  }]
}

################################################################################
# DNS: one proxied name per regional origin
################################################################################

resource "cloudflare_dns_record" "origin" {
  for_each = var.origins

  zone_id = var.zone_id
  name    = local.origin_hostnames[each.key]
  type    = "CNAME"
  content = var.origin_lb_hostnames[each.key]
  proxied = true
  ttl     = 1
  comment = "LLM gateway regional origin ${each.key} (AWS load balancer); authenticated origin pulls on"
}

################################################################################
# Load balancer with geo steering: the fallback path to the origins
################################################################################

# The edge addresses a region's origin by its own hostname when the key's residency zone pins
# the request; the geo-steered hostname below is for traffic free to go to any region, and
# fails over between regions by health.
resource "cloudflare_load_balancer_monitor" "origin" {
  for_each = var.origins

  account_id       = var.account_id
  description      = "LLM gateway origin ${each.key}: /health/ready"
  type             = "https"
  method           = "GET"
  path             = "/health/ready"
  port             = var.origin_health_port
  expected_codes   = "200"
  follow_redirects = false
  # The health listener (origin_health_port) serves the origin's Cloudflare Origin CA
  # certificate, which Cloudflare's proxy trusts but its health monitors do not (they want a
  # publicly trusted one): verified, every pool would be down. The listener forwards only
  # /health/ready and carries no credentials, so this monitor skips verification; API traffic
  # (443, mTLS, Full strict) is verified as before.
  allow_insecure   = true
  interval         = 30
  timeout          = 5
  retries          = 1
  consecutive_down = 2
  consecutive_up   = 2
  header = {
    Host = [local.origin_hostnames[each.key]]
  }
}

resource "cloudflare_load_balancer_pool" "origin" {
  for_each = var.origins

  account_id      = var.account_id
  name            = "llm-origin-${each.key}"
  description     = "LLM gateway regional origin ${each.key}"
  monitor         = cloudflare_load_balancer_monitor.origin[each.key].id
  check_regions   = each.value.check_regions
  latitude        = each.value.latitude
  longitude       = each.value.longitude
  minimum_origins = 1
  origins = [{
    name    = "alb-${each.key}"
    address = var.origin_lb_hostnames[each.key]
    enabled = true
    weight  = 1
    header = {
      host = [local.origin_hostnames[each.key]]
    }
  }]
}

locals {
  # For each origin: its own pool first, then its failover pools in order.
  pool_order = {
    for key, origin in var.origins : key => concat(
      [cloudflare_load_balancer_pool.origin[key].id],
      [for other in origin.failover : cloudflare_load_balancer_pool.origin[other].id],
    )
  }
  region_pools = merge([
    for key, origin in var.origins : { for region in origin.steering_regions : region => local.pool_order[key] }
  ]...)
  country_pools = merge([
    for key, origin in var.origins : { for country in origin.steering_countries : country => local.pool_order[key] }
  ]...)
}

resource "cloudflare_load_balancer" "origins" {
  zone_id         = var.zone_id
  name            = local.lb_hostname
  description     = "LLM gateway regional origins, geo-steered"
  proxied         = true
  steering_policy = "geo"
  default_pools   = local.pool_order[var.default_origin]
  fallback_pool   = cloudflare_load_balancer_pool.origin[var.fallback_origin].id
  region_pools    = local.region_pools
  country_pools   = local.country_pools

  adaptive_routing = {
    failover_across_pools = true
  }
}
