'use strict';

/**
 * Timing helpers for UI code: debounce, throttle and retries with backoff.
 */

function debounce(fn, waitMs, { leading = false, maxWaitMs = Infinity } = {}) {
  let timer = null;
  let firstCallAt = null;
  let pendingArgs = null;

  function flush() {
    timer = null;
    firstCallAt = null;
    if (pendingArgs !== null) {
      const args = pendingArgs;
      pendingArgs = null;
      fn(...args);
    }
  }

  function debounced(...args) {
    const now = Date.now();
    if (firstCallAt === null) {
      firstCallAt = now;
      if (leading && timer === null) {
        fn(...args);
        timer = setTimeout(flush, waitMs);
        return;
      }
    }
    pendingArgs = args;
    clearTimeout(timer);
    const waited = now - firstCallAt;
    timer = setTimeout(flush, Math.max(0, Math.min(waitMs, maxWaitMs - waited)));
  }

  debounced.cancel = () => {
    clearTimeout(timer);
    timer = null;
    firstCallAt = null;
    pendingArgs = null;
  };
  return debounced;
}

function throttle(fn, intervalMs) {
  let lastRun = -Infinity;
  let trailing = null;
  return function throttled(...args) {
    const now = Date.now();
    const remaining = intervalMs - (now - lastRun);
    if (remaining <= 0) {
      lastRun = now;
      fn(...args);
    } else if (trailing === null) {
      trailing = setTimeout(() => {
        trailing = null;
        lastRun = Date.now();
        fn(...args);
      }, remaining);
    }
  };
}

async function retryWithBackoff(task, { attempts = 5, baseDelayMs = 100, factor = 2, jitter = 0.25 } = {}) {
  let delay = baseDelayMs;
  let lastError;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    try {
      return await task(attempt);
    } catch (error) {
      lastError = error;
      if (attempt === attempts) break;
      const spread = delay * jitter * (Math.random() * 2 - 1);
      await new Promise((resolve) => setTimeout(resolve, delay + spread));
      delay *= factor;
    }
  }
  throw lastError;
}

module.exports = { debounce, throttle, retryWithBackoff };
