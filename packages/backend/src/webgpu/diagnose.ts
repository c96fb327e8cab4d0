// Why a machine has (or lacks) a WebGPU adapter, without loading Dawn: the Vulkan loader, the Vulkan
// drivers (ICDs) it would find, and NVIDIA's driver and container settings. `sift doctor` prints this.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Path of libvulkan.so.1 as the dynamic loader would find it, or undefined. */
export function findVulkanLoader(): string | undefined {
  if (process.platform !== 'linux') return process.platform === 'darwin' || process.platform === 'win32' ? 'system' : undefined;
  for (const dir of (process.env['LD_LIBRARY_PATH'] ?? '').split(delimiter).filter(Boolean)) {
    const p = join(dir, 'libvulkan.so.1');
    if (existsSync(p)) return p;
  }
  try {
    const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/sbin:/usr/sbin` } });
    const line = out.split('\n').find((l) => l.includes('libvulkan.so.1') && l.includes('x86-64') === (process.arch === 'x64'));
    const path = line?.split('=>')[1]?.trim();
    if (path) return path;
  } catch {
    // no ldconfig: fall back on the usual folders
  }
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu']) {
    const p = join(dir, 'libvulkan.so.1');
    if (existsSync(p)) return p;
  }
  return undefined;
}

export interface VulkanDriver {
  /** The ICD manifest (JSON) file. */
  manifest: string;
  /** The driver library it names. */
  library: string;
  /** lavapipe (Mesa's CPU renderer) rather than a GPU driver. */
  software: boolean;
}

/** Folders the Vulkan loader reads ICD manifests from (plus VK_DRIVER_FILES / VK_ICD_FILENAMES). */
function icdManifests(): string[] {
  const explicit = process.env['VK_DRIVER_FILES'] ?? process.env['VK_ICD_FILENAMES'];
  if (explicit) return explicit.split(delimiter).filter(Boolean);
  const dataDirs = (process.env['XDG_DATA_DIRS'] ?? '/usr/local/share:/usr/share').split(delimiter);
  const dirs = ['/etc/vulkan/icd.d', ...dataDirs.map((d) => join(d, 'vulkan', 'icd.d'))];
  const files: string[] = [];
  for (const dir of dirs) {
    try {
      for (const f of readdirSync(dir)) if (f.endsWith('.json')) files.push(join(dir, f));
    } catch {
      // folder absent
    }
  }
  return files;
}

export function findVulkanDrivers(): VulkanDriver[] {
  return icdManifests().map((manifest) => {
    let library = '?';
    try {
      library = (JSON.parse(readFileSync(manifest, 'utf8')) as { ICD?: { library_path?: string } }).ICD?.library_path ?? '?';
    } catch {
      // unreadable manifest: still listed
    }
    return { manifest, library, software: /lvp|lavapipe|swiftshader/i.test(`${manifest} ${library}`) };
  });
}

export interface NvidiaInfo {
  /** The kernel driver's version line, when an NVIDIA driver is loaded. */
  driver?: string;
  /** NVIDIA_DRIVER_CAPABILITIES in a container (the NVIDIA container runtime reads it). */
  containerCapabilities?: string;
  /** The driver's Vulkan manifest where the NVIDIA container runtime mounts it, when present. */
  containerIcd?: string;
}

export function nvidiaInfo(): NvidiaInfo {
  const info: NvidiaInfo = {};
  try {
    info.driver = readFileSync('/proc/driver/nvidia/version', 'utf8').split('\n')[0]?.trim();
  } catch {
    if (existsSync('/dev/nvidiactl')) info.driver = 'present (/dev/nvidiactl)';
  }
  if (process.env['NVIDIA_DRIVER_CAPABILITIES'] !== undefined) info.containerCapabilities = process.env['NVIDIA_DRIVER_CAPABILITIES'];
  for (const p of ['/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json', '/usr/share/vulkan/icd.d/nvidia_icd.json', '/etc/vulkan/icd.d/nvidia_icd.json']) {
    if (existsSync(p)) {
      info.containerIcd = p;
      break;
    }
  }
  return info;
}

/**
 * Lines explaining why no GPU adapter can be expected here, each with the fix; empty when the
 * prerequisites look present.
 */
export function explainMissingGpu(): string[] {
  const lines: string[] = [];
  const loader = findVulkanLoader();
  const drivers = findVulkanDrivers();
  const nvidia = nvidiaInfo();
  const gpuDrivers = drivers.filter((d) => !d.software);
  if (!loader) {
    lines.push(
      'no Vulkan loader (libvulkan.so.1): Dawn reaches GPUs through Vulkan on Linux. Install it (Debian/Ubuntu: `apt-get install libvulkan1`; ' +
        'on a machine without a package manager, unpack the libvulkan1 .deb and point LD_LIBRARY_PATH at its lib folder).',
    );
  }
  if (nvidia.driver) {
    const caps = nvidia.containerCapabilities;
    if (caps !== undefined && !/\b(all|graphics)\b/.test(caps)) {
      lines.push(
        `NVIDIA driver present (${nvidia.driver}) but this container was started without the 'graphics' capability ` +
          `(NVIDIA_DRIVER_CAPABILITIES=${caps}): the driver's Vulkan library and manifest are not mounted. Start it with ` +
          '`-e NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics` (or `all`), e.g. `docker run --gpus all -e NVIDIA_DRIVER_CAPABILITIES=all …`.',
      );
    } else if (!gpuDrivers.some((d) => /nvidia/i.test(d.manifest + d.library))) {
      lines.push(
        nvidia.containerIcd
          ? `NVIDIA driver present (${nvidia.driver}); its Vulkan manifest is at ${nvidia.containerIcd} but not where the loader looks: ` +
              `export VK_DRIVER_FILES=${nvidia.containerIcd}`
          : `NVIDIA driver present (${nvidia.driver}) but no NVIDIA Vulkan driver (ICD manifest nvidia_icd.json): install the driver's ` +
              "Vulkan/GL part (Debian: `nvidia-vulkan-icd`; Ubuntu: `libnvidia-gl-<version>`), or in a container add the 'graphics' capability.",
      );
    }
  } else if (gpuDrivers.length === 0) {
    lines.push(
      drivers.length > 0
        ? `only software Vulkan drivers (${drivers.map((d) => d.manifest).join(', ')}): no GPU driver is installed, or no GPU is attached`
        : 'no Vulkan driver (ICD manifest) found in /etc/vulkan/icd.d or /usr/share/vulkan/icd.d: no GPU driver is installed, or no GPU is attached',
    );
  }
  return lines;
}
