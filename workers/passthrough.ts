/**
 * The benchmark floor (see bench/README.md): a bare pass-through Worker on the same runtime as
 * the gateway. It forwards method, headers and body to `UPSTREAM_URL` + path + query and returns
 * the upstream Response as is (streams untouched). Not part of the gateway; only
 * bench/wrangler.passthrough.toml runs it.
 */
interface Env {
  UPSTREAM_URL: string;
}

export default {
  fetch(request, env) {
    const { pathname, search } = new URL(request.url);
    return fetch(new Request(`${env.UPSTREAM_URL}${pathname}${search}`, request));
  },
} satisfies ExportedHandler<Env>;
