/* Checks a generated wsdeck_assets.h against the dist/ it was made from, as firmware would use it:
 * every route is found, every body gunzips (zlib) to exactly the built file, and the headers are
 * set. `cargo xtask test` builds and runs it:
 *
 *   gcc -std=c99 -Wall -Wextra -Werror -I target/flash firmware/test/assets_test.c -lz -o assets_test
 *   ./assets_test dist target/flash
 *
 * Prints TAP lines and `# pass N` / `# fail N`; exits non-zero if anything failed. */
#define _POSIX_C_SOURCE 200809L
#define ZLIB_CONST

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "wsdeck_assets.h"

static int passed, failed;

static void check(int ok, const char *fmt, ...) {
  va_list args;
  printf("%s %d - ", ok ? "ok" : "not ok", passed + failed + 1);
  va_start(args, fmt);
  vprintf(fmt, args);
  va_end(args);
  printf("\n");
  if (ok) {
    passed++;
  } else {
    failed++;
  }
}

/* The whole file, or NULL; its size in *len. */
static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  unsigned char *data;
  long size;
  if (f == NULL) {
    return NULL;
  }
  if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return NULL;
  }
  data = malloc((size_t)size + 1);
  if (data != NULL && fread(data, 1, (size_t)size, f) != (size_t)size) {
    free(data);
    data = NULL;
  }
  fclose(f);
  *len = (size_t)size;
  return data;
}

/* Regular files below dir, recursively. */
static size_t count_files(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  size_t n = 0;
  if (d == NULL) {
    return 0;
  }
  while ((e = readdir(d)) != NULL) {
    char path[4096];
    struct stat st;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
      continue;
    }
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (stat(path, &st) != 0) {
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      n += count_files(path);
    } else if (S_ISREG(st.st_mode)) {
      n++;
    }
  }
  closedir(d);
  return n;
}

/* 1 if body (exactly len bytes of gzip, nothing left over) inflates to exactly want. */
static int gunzips_to(const uint8_t *body, uint32_t len, const unsigned char *want, size_t want_len) {
  z_stream s;
  unsigned char *out = malloc(want_len + 1);
  int rc, same;
  memset(&s, 0, sizeof s);
  if (out == NULL || inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) {
    free(out);
    return 0;
  }
  s.next_in = body;
  s.avail_in = len;
  s.next_out = out;
  s.avail_out = (uInt)(want_len + 1);
  rc = inflate(&s, Z_FINISH);
  same = rc == Z_STREAM_END && s.avail_in == 0 && s.total_out == want_len && memcmp(out, want, want_len) == 0;
  inflateEnd(&s);
  free(out);
  return same;
}

int main(int argc, char **argv) {
  const char *dist, *bundle;
  const wsdeck_asset_t *index;
  size_t i, files;
  if (argc < 2) {
    fprintf(stderr, "usage: %s DIST_DIR [BUNDLE_DIR]\n", argv[0]);
    return 2;
  }
  dist = argv[1];
  bundle = argc > 2 ? argv[2] : NULL;
  printf("# wsdeck bundle %s, %u files\n", WSDECK_BUNDLE_HASH, (unsigned)WSDECK_ASSET_COUNT);

  files = count_files(dist);
  check(files == WSDECK_ASSET_COUNT, "the table has one route per file in %s (%u routes, %u files)", dist,
        (unsigned)WSDECK_ASSET_COUNT, (unsigned)files);

  for (i = 0; i < WSDECK_ASSET_COUNT; i++) {
    const wsdeck_asset_t *a = &WSDECK_ASSETS[i];
    char path[4096];
    size_t raw_len = 0;
    unsigned char *raw;
    int headers = a->mime[0] != '\0' && a->cache_control[0] != '\0' && strlen(a->etag) == 18 &&
                  a->etag[0] == '"' && a->etag[17] == '"';
    check(wsdeck_find_asset(a->path) == a, "%s is found", a->path);
    check(headers, "%s has a MIME type (%s), a quoted ETag (%s) and a cache policy (%s)", a->path, a->mime,
          a->etag, a->cache_control);
    snprintf(path, sizeof path, "%s%s", dist, a->path);
    raw = read_file(path, &raw_len);
    check(raw != NULL && gunzips_to(a->gzip, a->gzip_len, raw, raw_len),
          "%s: its %u gzip bytes gunzip to the %u bytes of %s", a->path, (unsigned)a->gzip_len,
          (unsigned)raw_len, path);
    free(raw);
    if (bundle != NULL) {
      size_t gz_len = 0;
      unsigned char *gz;
      snprintf(path, sizeof path, "%s%s.gz", bundle, a->path);
      gz = read_file(path, &gz_len);
      check(gz != NULL && gz_len == a->gzip_len && memcmp(gz, a->gzip, gz_len) == 0,
            "%s: gzip_len %u and the body equal %s", a->path, (unsigned)a->gzip_len, path);
      free(gz);
    }
  }

  index = wsdeck_find_asset("/index.html");
  check(index != NULL && strcmp(index->mime, "text/html; charset=utf-8") == 0 &&
            strcmp(index->cache_control, "no-cache") == 0,
        "/index.html is HTML and revalidated (no-cache)");
  check(index != NULL && index->csp != NULL && strstr(index->csp, "script-src 'self' 'sha256-") != NULL &&
            strstr(index->csp, "unsafe-inline") == NULL,
        "/index.html comes with a Content-Security-Policy that allows its bootstrap by hash, nothing inline");
  for (i = 0; i < WSDECK_ASSET_COUNT; i++) {
    const wsdeck_asset_t *a = &WSDECK_ASSETS[i];
    int html = strncmp(a->mime, "text/html", 9) == 0;
    check(html == (a->csp != NULL), "%s: a policy exactly for HTML pages", a->path);
  }
  check(index != NULL && wsdeck_find_asset("/") == index, "/ is /index.html");
  check(index != NULL && wsdeck_find_asset("/index.html?x=1") == index, "/index.html?x=1 is /index.html");
  check(index != NULL && wsdeck_find_asset("/?ws=ws://10.0.0.7:81/ws") == index, "/?ws=... is /index.html");
  check(wsdeck_find_asset("/missing.js") == NULL, "/missing.js is not found");
  check(wsdeck_find_asset("/index.htm") == NULL && wsdeck_find_asset("/index.html.gz") == NULL,
        "near misses are not found");
  check(wsdeck_find_asset(NULL) == NULL, "NULL is not found");
  for (i = 0; i < WSDECK_ASSET_COUNT; i++) {
    const char *p = WSDECK_ASSETS[i].path;
    size_t n = strlen(p);
    if (n > 5 && strcmp(p + n - 5, ".wasm") == 0) {
      check(strcmp(WSDECK_ASSETS[i].mime, "application/wasm") == 0, "%s is application/wasm", p);
    }
  }

  printf("1..%d\n# pass %d\n# fail %d\n", passed + failed, passed, failed);
  return failed == 0 ? 0 : 1;
}
