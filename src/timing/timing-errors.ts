/**
 * Delivery precision: delivery time − due time over on-time deliveries, accumulated as a mean, a
 * maximum, and how many exceeded 0.1 ms and 0.2 ms. Shared by the playout buffer (event-loop timers),
 * the delivery thread and each playout that delivers through a thread.
 */
export interface TimingErrorStats {
  meanErrorUs: number
  maxErrorUs: number
  over100Us: number
  over200Us: number
}

export class TimingErrors {
  #sum = 0
  #n = 0
  #max = 0
  #over100 = 0
  #over200 = 0

  record (errorUs: number): void {
    this.#sum += errorUs
    this.#n++
    if (errorUs > this.#max) this.#max = errorUs
    if (errorUs > 100) this.#over100++
    if (errorUs > 200) this.#over200++
  }

  stats (): TimingErrorStats {
    return { meanErrorUs: this.#n > 0 ? this.#sum / this.#n : 0, maxErrorUs: this.#max, over100Us: this.#over100, over200Us: this.#over200 }
  }
}
