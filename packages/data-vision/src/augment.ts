// Augmentation maths (no image library here, so it is unit-testable and shared by workers and CIFAR).
import type { Rng } from '@sparse-ift/core/rng';

/** ImageNet channel mean/std (torchvision), docs/recipes.md#imagenet-resnet. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
/** CIFAR-100 channel mean/std from the official code, docs/recipes.md#cifar-100-resnet-18. */
export const CIFAR100_MEAN = [0.5070751592371323, 0.48654887331495095, 0.4409178433670343] as const;
export const CIFAR100_STD = [0.2673342858792401, 0.2564384629170883, 0.27615047132568404] as const;

export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface RandomResizedCropOptions {
  scale?: [number, number];
  ratio?: [number, number];
}

/**
 * torchvision's RandomResizedCrop.get_params: up to 10 tries of an area fraction in `scale` and a log-uniform
 * aspect ratio in `ratio`; if none fits, a centre crop with the ratio clamped into `ratio`.
 */
export function randomResizedCropBox(
  width: number,
  height: number,
  rng: Rng,
  { scale = [0.08, 1], ratio = [3 / 4, 4 / 3] }: RandomResizedCropOptions = {},
): CropBox {
  const area = width * height;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * (scale[0] + rng.uniform() * (scale[1] - scale[0]));
    const aspect = Math.exp(logLo + rng.uniform() * (logHi - logLo));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      const top = rng.uniformInt(height - h + 1); // torchvision draws i (row) before j (column)
      return { left: rng.uniformInt(width - w + 1), top, width: w, height: h };
    }
  }
  const inRatio = width / height;
  let w: number;
  let h: number;
  if (inRatio < ratio[0]) {
    w = width;
    h = roundHalfEven(w / ratio[0]);
  } else if (inRatio > ratio[1]) {
    h = height;
    w = roundHalfEven(h * ratio[1]);
  } else {
    w = width;
    h = height;
  }
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
}

/** Size after torchvision Resize(size) with an int: the shorter side becomes `size`, aspect kept. */
export function resizeShorterSide(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.floor((size * height) / width) };
  return { width: Math.floor((size * width) / height), height: size };
}

/** Python's round(): halves go to the even neighbour (torchvision's centre crop uses it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision CenterCrop box: top = int(round((H − size) / 2)), left likewise. */
export function centerCropBox(width: number, height: number, size: number): CropBox {
  if (size > width || size > height) throw new Error(`centre crop ${size} is larger than the ${width}×${height} image`);
  return { left: roundHalfEven((width - size) / 2), top: roundHalfEven((height - size) / 2), width: size, height: size };
}

/** Writes (x/255 − mean)/std for HWC u8 pixels into `out` at `offset` (NHWC float). */
export function normalizeInto(
  pixels: Uint8Array,
  channels: number,
  mean: readonly number[],
  std: readonly number[],
  out: Float32Array,
  offset = 0,
): void {
  const scale = std.map((s) => 1 / (255 * s));
  const shift = mean.map((m, c) => m / std[c]!);
  if (channels === 3) {
    // The hot case (every ImageNet image): unrolled, constants in locals.
    const [s0, s1, s2] = scale as [number, number, number];
    const [h0, h1, h2] = shift as [number, number, number];
    for (let i = 0; i < pixels.length; i += 3) {
      out[offset + i] = pixels[i]! * s0 - h0;
      out[offset + i + 1] = pixels[i + 1]! * s1 - h1;
      out[offset + i + 2] = pixels[i + 2]! * s2 - h2;
    }
    return;
  }
  for (let i = 0; i < pixels.length; i += channels) {
    for (let c = 0; c < channels; c++) out[offset + i + c] = pixels[i + c]! * scale[c]! - shift[c]!;
  }
}

/**
 * Width and height from a JPEG's start-of-frame marker, or undefined if this is not a (readable) JPEG.
 * Cheaper than asking the decoder, and needed before decoding to draw the random crop.
 */
export function jpegSize(buf: Uint8Array): { width: number; height: number } | undefined {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) return undefined;
  let pos = 2;
  while (pos + 4 <= buf.length) {
    if (buf[pos] !== 0xff) return undefined;
    const marker = buf[pos + 1]!;
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2; // markers without a length
      continue;
    }
    const len = (buf[pos + 2]! << 8) | buf[pos + 3]!;
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC): precision(1) height(2) width(2)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (pos + 9 > buf.length) return undefined;
      const height = (buf[pos + 5]! << 8) | buf[pos + 6]!;
      const width = (buf[pos + 7]! << 8) | buf[pos + 8]!;
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    if (marker === 0xda) return undefined; // start of scan before any frame header
    pos += 2 + len;
  }
  return undefined;
}

/**
 * CIFAR train augmentation of one HWC float image (already in [0,1]): RandomCrop(size, padding=pad, zero fill)
 * then horizontal flip with p=0.5, then Normalize(mean, std). Zero fill happens before normalization, as in
 * torchvision (ToTensor → pad with 0 → normalize), so padded pixels become −mean/std.
 */
export function cifarAugmentInto(
  src: Float32Array,
  srcOffset: number,
  size: number,
  channels: number,
  rng: Rng,
  out: Float32Array,
  outOffset: number,
  { pad = 4, mean = CIFAR100_MEAN, std = CIFAR100_STD, train = true }: {
    pad?: number;
    mean?: readonly number[];
    std?: readonly number[];
    train?: boolean;
  } = {},
): void {
  // Crop origin in padded coordinates, then flip: same draw order as torchvision (crop first, then flip).
  const dy = train ? rng.uniformInt(2 * pad + 1) - pad : 0;
  const dx = train ? rng.uniformInt(2 * pad + 1) - pad : 0;
  const flip = train && rng.uniform() < 0.5;
  for (let y = 0; y < size; y++) {
    const sy = y + dy;
    for (let x = 0; x < size; x++) {
      const sx0 = (flip ? size - 1 - x : x) + dx;
      const o = outOffset + (y * size + x) * channels;
      const inside = sy >= 0 && sy < size && sx0 >= 0 && sx0 < size;
      for (let c = 0; c < channels; c++) {
        const v = inside ? src[srcOffset + (sy * size + sx0) * channels + c]! : 0;
        out[o + c] = (v - mean[c]!) / std[c]!;
      }
    }
  }
}
