output "queue_names" {
  description = "Events queue of each pipeline, by pipeline key (the gateway Workers' USAGE_EVENTS / USAGE_EVENTS_EU bindings)."
  value       = { for key in keys(var.pipelines) : key => cloudflare_queue.usage[key].queue_name }
}

output "dead_letter_queue_names" {
  description = "Dead-letter queue of each pipeline, by pipeline key."
  value       = { for key in keys(var.pipelines) : key => cloudflare_queue.usage["${key}-dlq"].queue_name }
}

output "queue_ids" {
  description = "Queue id of every queue (events and dead-letter), by pipeline key and <key>-dlq."
  value       = { for key, queue in cloudflare_queue.usage : key => queue.queue_id }
}

output "hyperdrive_ids" {
  description = "Hyperdrive config id of each pipeline, by pipeline key: the USAGE_DB binding's id in wrangler.toml and workers/usage-consumer.wrangler.toml."
  value       = { for key, config in cloudflare_hyperdrive_config.usage : key => config.id }
}
