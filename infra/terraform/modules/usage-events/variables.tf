variable "account_id" {
  description = "Cloudflare account id."
  type        = string
}

variable "pipelines" {
  description = <<-EOT
    The usage-event pipelines, by key: one per gateway Worker whose events must stay apart (the
    global one and the EU one). Each has a queue and its dead-letter queue (<queue_name>-dlq),
    the consumer Worker that reads both (workers/usage-consumer.wrangler.toml: its name, or
    its [env.*]'s), and a Hyperdrive config in front of its PostgreSQL.
    jurisdiction: "eu", "us" or "fedramp" keeps the queues' messages stored and processed in
      that jurisdiction only; it can be set only when a queue is created (changing it
      replaces the queue).
    database: the PostgreSQL the consumer writes and the admin request log reads (its
      password in database_passwords).
  EOT
  type = map(object({
    queue_name      = string
    jurisdiction    = optional(string)
    consumer_script = string
    hyperdrive_name = string
    database = object({
      host     = string
      port     = optional(number, 5432)
      database = string
      user     = string
    })
  }))

  validation {
    condition = alltrue([
      for p in values(var.pipelines) : p.jurisdiction == null || contains(["eu", "us", "fedramp"], coalesce(p.jurisdiction, "none"))
    ])
    error_message = "jurisdiction is eu, us or fedramp (or unset: the global network)."
  }
}

variable "database_passwords" {
  description = "Password of each pipeline's database user, by pipeline key (Hyperdrive stores it; the API never returns it)."
  type        = map(string)
  sensitive   = true
}

variable "consumer_settings" {
  description = "The consumers of the events queues and of the dead-letter queues (the same Worker, which logs what it gives up); keep equal to workers/usage-consumer.wrangler.toml ([[queues.consumers]]: max_batch_size, max_batch_timeout in seconds here in ms, max_retries)."
  type = map(object({
    batch_size       = number
    max_wait_time_ms = number
    max_retries      = number
  }))
  default = {
    events       = { batch_size = 100, max_wait_time_ms = 2000, max_retries = 9 }
    dead_letters = { batch_size = 100, max_wait_time_ms = 30000, max_retries = 9 }
  }
}
