// tfjs-layers' Node bundle registers every tfjs-core gradient with the shared kernel registry.
import '@tensorflow/tfjs-layers';
