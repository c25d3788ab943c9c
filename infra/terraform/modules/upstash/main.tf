# One global Upstash Redis for the edge: the primary takes writes, read regions serve the reads of
# nearby Cloudflare locations. Workers reach it over its REST API (UPSTASH_REDIS_REST_URL/TOKEN).
resource "upstash_redis_database" "gateway" {
  database_name  = var.database_name
  region         = "global"
  primary_region = var.primary_region
  read_regions   = var.read_regions
  tls            = true
  eviction       = var.eviction
  budget         = var.budget
  prod_pack      = var.prod_pack
}
