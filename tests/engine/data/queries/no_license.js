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
