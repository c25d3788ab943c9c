locals {
  # Each pipeline's two queues: the events queue, and its dead-letter queue in the same
  # jurisdiction (a dead letter holds the same data as the event).
  queues = merge([
    for key, p in var.pipelines : {
      (key)        = { name = p.queue_name, jurisdiction = p.jurisdiction }
      "${key}-dlq" = { name = "${p.queue_name}-dlq", jurisdiction = p.jurisdiction }
    }
  ]...)
  # The consumer Worker reads its events queue in batches; a batch it cannot write is retried
  # with backoff (the Worker's retry({delaySeconds})) and, past max_retries, moved to the
  # dead-letter queue. The same Worker reads the dead-letter queue and writes those events
  # again; past its retries an event is lost, and the Worker logs its id.
  consumers = merge([
    for key, p in var.pipelines : {
      (key)        = { script = p.consumer_script, dead_letter_queue = "${key}-dlq", settings = var.consumer_settings.events }
      "${key}-dlq" = { script = p.consumer_script, dead_letter_queue = null, settings = var.consumer_settings.dead_letters }
    }
  ]...)
}

resource "cloudflare_queue" "usage" {
  for_each = local.queues

  account_id   = var.account_id
  queue_name   = each.value.name
  jurisdiction = each.value.jurisdiction
}

# One consumer per queue (by the queue's key). The Worker must exist first: deploy it with
# wrangler before the first full apply (see infra/terraform/README.md).
resource "cloudflare_queue_consumer" "usage" {
  for_each = local.consumers

  account_id        = var.account_id
  queue_id          = cloudflare_queue.usage[each.key].queue_id
  type              = "worker"
  script_name       = each.value.script
  dead_letter_queue = each.value.dead_letter_queue == null ? null : cloudflare_queue.usage[each.value.dead_letter_queue].queue_name
  settings = {
    batch_size       = each.value.settings.batch_size
    max_wait_time_ms = each.value.settings.max_wait_time_ms
    max_retries      = each.value.settings.max_retries
  }
}

# Hyperdrive in front of each pipeline's PostgreSQL: pooled connections for the consumer's
# writes and the admin request log's reads. Query caching off: the request log must show the
# rows just written, and every write goes through anyway.
resource "cloudflare_hyperdrive_config" "usage" {
  for_each = var.pipelines

  account_id = var.account_id
  name       = each.value.hyperdrive_name
  origin = {
    scheme   = "postgres"
    host     = each.value.database.host
    port     = each.value.database.port
    database = each.value.database.database
    user     = each.value.database.user
    password = var.database_passwords[each.key]
  }
  caching = {
    disabled = true
  }
}
