variable "cloudflare_account_id" {
  description = "Cloudflare account id."
  type        = string
}

variable "cloudflare_zone_id" {
  description = "Id of the zone of zone_name."
  type        = string
}

variable "zone_name" {
  description = "The gateway's zone, e.g. example.com: the API is api.<zone>, origins origin-<region>.<zone>."
  type        = string
}

variable "upstash_email" {
  description = "Upstash account email (Management API)."
  type        = string
}

variable "upstash_api_key" {
  description = "Upstash Management API key."
  type        = string
  sensitive   = true
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

variable "origin_signing_keys" {
  description = "ORIGIN_SIGNING_KEYS, shared by the Worker (signs) and every origin (verifies). Rotate by adding a new key id, applying, then removing the old one."
  type        = string
  sensitive   = true
}

variable "origin_image" {
  description = "Repository of the origin router image, without a tag (each overlay pins its tag): what .github/workflows/origin-image.yml pushes, ghcr.io/<repository owner, lower case>/llm-gateway-origin. One setting for every region."
  type        = string
}

variable "origin_image_pull_username" {
  description = "Registry user for a private router image (GHCR: a user with read:packages on the package); null when the package is public."
  type        = string
  default     = null
}

variable "origin_image_pull_token" {
  description = "Token of origin_image_pull_username (GHCR: a personal access token with read:packages). Pass as TF_VAR_origin_image_pull_token."
  type        = string
  default     = null
  sensitive   = true
}

variable "admin_token" {
  description = "Worker secret ADMIN_TOKEN."
  type        = string
  sensitive   = true
}

variable "worker_bundle_dir" {
  description = "Directory holding the Worker bundles edge/gateway.js and edge-eu/gateway.js (see main.tf). Defaults to dist/ at the repository root."
  type        = string
  default     = null
}

variable "cluster_admin_cidrs" {
  description = "Networks allowed to reach the EKS API endpoints (operators and CI runners)."
  type        = list(string)
}

variable "tags" {
  description = "Extra tags for every AWS resource."
  type        = map(string)
  default     = {}
}

variable "usage_databases" {
  description = "The usage store's PostgreSQL of each pipeline: global (the top-level Worker) and eu (the EU Worker and EU-resident requests; a database in the EU). host, port (5432), database, user; migrations: npm run db:migrate."
  type = map(object({
    host     = string
    port     = optional(number, 5432)
    database = string
    user     = string
  }))

  validation {
    condition     = alltrue([for key in ["global", "eu"] : contains(keys(var.usage_databases), key)])
    error_message = "usage_databases needs global and eu."
  }
}

variable "usage_database_passwords" {
  description = "Passwords of the usage databases' users, by pipeline (global, eu), stored in their Hyperdrive configs."
  type        = map(string)
  sensitive   = true
}
