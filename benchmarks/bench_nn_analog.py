"""Analog compute-in-memory on digits and MNIST-1D: accuracy against noise and ADC bits.

The trained CNN (seed 0) on an :class:`~dcim.nn.AnalogCiM` array of 8-bit weights and
activations and 64 rows per conversion, no retraining: Gaussian noise of 0, 0.5, 1 and 2 ADC
steps (LSB) at 8 ADC bits, bit-serial and with 4-bit-parallel activations; then ADC bits 4
to 8 without noise (bit-serial). The drop is against the same array without noise and with
one row per conversion (exact integer sums). Each layer draws its own seeded noise.
"""

import time

from dcim.nn import AnalogCiM
from dcim.nn.report import compare_designs
from dcim.report import format_table

# mnist5k is left out: its first convolution alone makes 784 outputs per image, and the
# noise of 64 cycles per output is most of the time (hours for the sweep on 2 cores).
TASKS = ("digits", "mnist1d")
SIGMAS = (0.0, 0.5, 1.0, 2.0)
ADC_BITS = (4, 5, 6, 7, 8)


def main():
    for task in TASKS:
        start = time.perf_counter()
        noise = [AnalogCiM(act_encoding=encoding).with_noise_lsb(sigma)
                 for encoding in (1, 4) for sigma in SIGMAS]
        adc = [AnalogCiM(adc_bits=bits) for bits in ADC_BITS]
        results = compare_designs(task, noise + adc, energy=False)
        exact = results[0].exact_accuracy
        print(f"\n### {task}: float {100 * results[0].float_accuracy:.1f} %, exact integer "
              f"{100 * exact:.1f} % ({time.perf_counter() - start:.0f} s)\n")
        by_noise = [[f"{sigma:g}"] + [f"{100 * results[e * len(SIGMAS) + i].accuracy:.1f}"
                                      for e in range(2)]
                    for i, sigma in enumerate(SIGMAS)]
        print(format_table(["noise sigma (LSB)", "bit-serial %", "4-bit parallel %"],
                           by_noise))
        print()
        by_adc = [[bits, f"{100 * result.accuracy:.1f}", f"{100 * result.drop:+.1f}"]
                  for bits, result in zip(ADC_BITS, results[len(noise):], strict=True)]
        print(format_table(["ADC bits", "accuracy %", "drop (points)"], by_adc), flush=True)


if __name__ == "__main__":
    main()
