output "database_id" {
  description = "Upstash database id."
  value       = upstash_redis_database.gateway.database_id
}

output "endpoint" {
  description = "Hostname of the database (Redis protocol and REST API)."
  value       = upstash_redis_database.gateway.endpoint
}

output "rest_url" {
  description = "UPSTASH_REDIS_REST_URL for the edge Worker."
  value       = "https://${upstash_redis_database.gateway.endpoint}"
  sensitive   = true
}

output "rest_token" {
  description = "UPSTASH_REDIS_REST_TOKEN for the edge Worker (read-write)."
  value       = upstash_redis_database.gateway.rest_token
  sensitive   = true
}

output "read_only_rest_token" {
  description = "A read-only REST token, for dashboards and debugging."
  value       = upstash_redis_database.gateway.read_only_rest_token
  sensitive   = true
}
