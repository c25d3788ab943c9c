variable "database_name" {
  description = "Name of the Upstash Redis database (rate limits, budgets, response cache)."
  type        = string
}

variable "primary_region" {
  description = "Primary (write) region of the global database."
  type        = string
  default     = "us-east-1"
}

variable "read_regions" {
  description = "Read replicas of the global database, near the Cloudflare locations that read most. Must not contain the primary region."
  type        = list(string)
  default     = ["us-west-1", "eu-west-1", "ap-southeast-1"]

  validation {
    condition     = length(var.read_regions) == length(distinct(var.read_regions))
    error_message = "read_regions must not repeat a region."
  }

  validation {
    condition     = !contains(var.read_regions, var.primary_region)
    error_message = "read_regions must not contain primary_region."
  }
}

variable "eviction" {
  description = "Evict keys when the database is full. Off by default: rate-limit windows and budgets must not be evicted under memory pressure (cache entries carry TTLs instead)."
  type        = bool
  default     = false
}

variable "budget" {
  description = "Monthly budget in USD; Upstash throttles the database when it is reached."
  type        = number
  default     = 200
}

variable "prod_pack" {
  description = "Enable Upstash's Prod Pack (uptime SLA, SOC 2 reports, monitoring)."
  type        = bool
  default     = true
}
