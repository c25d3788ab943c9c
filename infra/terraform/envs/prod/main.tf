# Production: the edge once, Upstash once, the regional origin three times (us-east, eu-west,
# ap-south), each region with its own AWS, Helm and kustomization providers.

locals {
  environment = "production"
  infra_root  = "${path.root}/../../.."
  # Worker bundles: `npx wrangler deploy --dry-run --outdir dist/edge` and
  # `npx wrangler deploy --dry-run --env eu --outdir dist/edge-eu` at the repository root.
  bundle_root = coalesce(var.worker_bundle_dir, "${path.root}/../../../../dist")

  tags = merge(var.tags, {
    project     = "llm-gateway"
    environment = local.environment
    managed-by  = "terraform"
  })

  # Geo steering of the fallback load balancer. Cloudflare region codes: WNAM/ENAM North
  # America, NSAM/SSAM South America, WEU/EEU Europe, ME Middle East, NAF/SAF Africa, SAS South
  # Asia, SEAS/NEAS South-East/North-East Asia, OC Oceania.
  origins = {
    us-east = {
      latitude         = 38.9
      longitude        = -77.4
      check_regions    = ["ENAM", "WNAM"]
      steering_regions = ["WNAM", "ENAM", "NSAM", "SSAM"]
      failover         = ["eu-west", "ap-south"]
    }
    eu-west = {
      latitude          = 53.3
      longitude         = -6.3
      check_regions     = ["WEU", "EEU"]
      steering_regions  = ["WEU", "EEU", "ME", "NAF", "SAF"]
      failover          = ["us-east", "ap-south"]
      regional_services = "eu"
    }
    ap-south = {
      latitude           = 19.1
      longitude          = 72.9
      check_regions      = ["SAS", "SEAS"]
      steering_regions   = ["SAS", "SEAS", "NEAS", "OC"]
      steering_countries = ["AE", "SA", "QA", "OM", "KW", "BH"]
      failover           = ["eu-west", "us-east"]
    }
  }
}

data "cloudflare_ip_ranges" "cloudflare" {}

module "upstash" {
  source = "../../modules/upstash"

  database_name  = "llm-gateway-${local.environment}"
  primary_region = "us-east-1"
  read_regions   = ["us-west-1", "eu-west-1", "ap-southeast-1"]
}

# The EU-only Worker ([env.eu] in wrangler.toml) keeps its rate limits, budgets and cache in a
# database whose primary and replica are both in the EU.
module "upstash_eu" {
  source = "../../modules/upstash"

  database_name  = "llm-gateway-${local.environment}-eu"
  primary_region = "eu-west-1"
  read_regions   = ["eu-central-1"]
}

# Usage events: the global pipeline for the top-level Worker, and an EU one (queues in the EU
# jurisdiction, an EU database) for the EU Worker and for the EU-resident requests of the
# top-level Worker (events.zoneQueues.eu = USAGE_EVENTS_EU). The consumer Workers are
# workers/usage-consumer.wrangler.toml's top level and [env.eu].
module "usage_events" {
  source = "../../modules/usage-events"

  account_id = var.cloudflare_account_id
  pipelines = {
    global = {
      queue_name      = "usage-events"
      consumer_script = "edge-llm-gateway-usage"
      hyperdrive_name = "llm-gateway-usage-${local.environment}"
      database        = var.usage_databases["global"]
    }
    eu = {
      queue_name      = "usage-events-eu"
      jurisdiction    = "eu"
      consumer_script = "edge-llm-gateway-usage-eu"
      hyperdrive_name = "llm-gateway-usage-${local.environment}-eu"
      database        = var.usage_databases["eu"]
    }
  }
  database_passwords = var.usage_database_passwords
}

module "edge" {
  source = "../../modules/edge"

  account_id = var.cloudflare_account_id
  zone_id    = var.cloudflare_zone_id
  zone_name  = var.zone_name

  # One Worker per wrangler environment: the top level (wrangler deploy) and [env.eu]
  # (wrangler deploy --env eu). Names, vars and crons as in wrangler.toml.
  compatibility_date  = "2026-11-01"
  compatibility_flags = ["enable_request_signal", "nodejs_compat"]
  workers = {
    global = {
      script_name = "edge-llm-gateway"
      hostname    = "api.${var.zone_name}"
      bundle_path = "${local.bundle_root}/edge/gateway.js"
      vars = {
        OPENAI_BASE_URL    = "https://api.openai.com/v1"
        GATEWAY_FORCE_ZONE = "none"
      }
      crons = ["* * * * *"]
      queues = {
        USAGE_EVENTS    = module.usage_events.queue_names.global
        USAGE_EVENTS_EU = module.usage_events.queue_names.eu
      }
      hyperdrive = {
        USAGE_DB = module.usage_events.hyperdrive_ids.global
      }
    }
    eu = {
      script_name       = "edge-llm-gateway-eu"
      hostname          = "api-eu.${var.zone_name}"
      regional_services = "eu"
      bundle_path       = "${local.bundle_root}/edge-eu/gateway.js"
      vars = {
        OPENAI_BASE_URL    = "https://api.openai.com/v1"
        GATEWAY_FORCE_ZONE = "eu"
      }
      crons = ["* * * * *"]
      queues = {
        USAGE_EVENTS    = module.usage_events.queue_names.eu
        USAGE_EVENTS_EU = module.usage_events.queue_names.eu
      }
      hyperdrive = {
        USAGE_DB = module.usage_events.hyperdrive_ids.eu
      }
    }
  }

  openai_api_key       = var.openai_api_key
  azure_openai_api_key = var.azure_openai_api_key
  origin_signing_keys  = var.origin_signing_keys
  admin_token          = var.admin_token
  upstash_redis = {
    global = {
      rest_url   = module.upstash.rest_url
      rest_token = module.upstash.rest_token
    }
    eu = {
      rest_url   = module.upstash_eu.rest_url
      rest_token = module.upstash_eu.rest_token
    }
  }

  origins = local.origins
  origin_lb_hostnames = {
    us-east  = module.origin_us_east.origin_lb_dns_name
    eu-west  = module.origin_eu_west.origin_lb_dns_name
    ap-south = module.origin_ap_south.origin_lb_dns_name
  }
  default_origin  = "us-east"
  fallback_origin = "us-east"
}

module "origin_us_east" {
  source = "../../modules/regional-origin"

  providers = {
    aws           = aws.us_east
    helm          = helm.us_east
    kustomization = kustomization.us_east
  }

  region_key     = "us-east"
  aws_region     = "us-east-1"
  residency_zone = "us"
  vpc_cidr       = "10.10.0.0/16"

  cluster_endpoint_public_access_cidrs = var.cluster_admin_cidrs
  gpu_instance_types                   = ["g6e.2xlarge"]
  gpu_nodes                            = { min = 4, max = 24, desired = 8 }

  origin_hostname            = module.edge.origin_hostnames["us-east"]
  origin_tls_certificate_pem = module.edge.origin_tls["us-east"].certificate_pem
  origin_tls_private_key_pem = module.edge.origin_tls["us-east"].private_key_pem
  edge_client_ca_pem         = module.edge.edge_client_ca_pem
  edge_ingress_cidrs         = data.cloudflare_ip_ranges.cloudflare.ipv4_cidrs
  origin_signing_keys        = var.origin_signing_keys
  origin_image               = var.origin_image
  origin_image_pull_username = var.origin_image_pull_username
  origin_image_pull_token    = var.origin_image_pull_token

  kustomize_overlay_path = "${local.infra_root}/k8s/overlays/us-east"
  monitoring_path        = "${local.infra_root}/monitoring"
  tags                   = local.tags
}

# EU residency: everything of this origin (cluster, nodes, model weights, load balancer,
# certificates) is created in eu-west-1 by its provider; its health checks run from Europe.
module "origin_eu_west" {
  source = "../../modules/regional-origin"

  providers = {
    aws           = aws.eu_west
    helm          = helm.eu_west
    kustomization = kustomization.eu_west
  }

  region_key     = "eu-west"
  aws_region     = "eu-west-1"
  residency_zone = "eu"
  vpc_cidr       = "10.20.0.0/16"

  cluster_endpoint_public_access_cidrs = var.cluster_admin_cidrs
  gpu_instance_types                   = ["g6e.2xlarge"]

  origin_hostname            = module.edge.origin_hostnames["eu-west"]
  origin_tls_certificate_pem = module.edge.origin_tls["eu-west"].certificate_pem
  origin_tls_private_key_pem = module.edge.origin_tls["eu-west"].private_key_pem
  edge_client_ca_pem         = module.edge.edge_client_ca_pem
  edge_ingress_cidrs         = data.cloudflare_ip_ranges.cloudflare.ipv4_cidrs
  origin_signing_keys        = var.origin_signing_keys
  origin_image               = var.origin_image
  origin_image_pull_username = var.origin_image_pull_username
  origin_image_pull_token    = var.origin_image_pull_token

  kustomize_overlay_path = "${local.infra_root}/k8s/overlays/eu-west"
  monitoring_path        = "${local.infra_root}/monitoring"
  tags                   = local.tags
}

module "origin_ap_south" {
  source = "../../modules/regional-origin"

  providers = {
    aws           = aws.ap_south
    helm          = helm.ap_south
    kustomization = kustomization.ap_south
  }

  region_key     = "ap-south"
  aws_region     = "ap-south-1"
  residency_zone = "apac"
  vpc_cidr       = "10.30.0.0/16"

  cluster_endpoint_public_access_cidrs = var.cluster_admin_cidrs
  # L4 (Ada, like the L40S): the TEI image variant 89- fits both.
  gpu_instance_types = ["g6.4xlarge"]

  origin_hostname            = module.edge.origin_hostnames["ap-south"]
  origin_tls_certificate_pem = module.edge.origin_tls["ap-south"].certificate_pem
  origin_tls_private_key_pem = module.edge.origin_tls["ap-south"].private_key_pem
  edge_client_ca_pem         = module.edge.edge_client_ca_pem
  edge_ingress_cidrs         = data.cloudflare_ip_ranges.cloudflare.ipv4_cidrs
  origin_signing_keys        = var.origin_signing_keys
  origin_image               = var.origin_image
  origin_image_pull_username = var.origin_image_pull_username
  origin_image_pull_token    = var.origin_image_pull_token

  kustomize_overlay_path = "${local.infra_root}/k8s/overlays/ap-south"
  monitoring_path        = "${local.infra_root}/monitoring"
  tags                   = local.tags
}
