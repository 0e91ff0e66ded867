// The data layer: readers (IDX, CIFAR binary, synthetic), downloads,
// transforms and the batch loader. Datasets are uint8 in memory; floats exist
// only one batch at a time.
export * from './dataset.js';
export { parseIdx, readIdx, readIdxDataset, readMnistSplit, DEBIAN_FASHION_MNIST } from './idx.js';
export type { IdxArray, ImageSet, IdxDatasetOptions } from './idx.js';
export { readCifar, readCifarFolder, readCifarArchive, parseCifar, CIFAR_LAYOUT } from './cifar.js';
export type { CifarVariant, Split } from './cifar.js';
export { scanTar, readTarMembers } from './tar.js';
export type { TarMember, TarSink } from './tar.js';
export { makeSynthetic } from './synthetic.js';
export type { SyntheticOptions } from './synthetic.js';
export * from './transforms.js';
export { epochSeed, makePlan, batchCount } from './plan.js';
export type { EpochPlan, PlanConfig } from './plan.js';
export { BatchLoader } from './loader.js';
export type { Batch, BatchLoaderOptions, AugmentOptions } from './loader.js';
export { downloadDataset, downloadFile, extractCifar, md5File, defaultDataDir, DOWNLOADS } from './download.js';
export type { DownloadableDataset, DownloadOptions, DownloadProgress, DownloadSource } from './download.js';
export { loadDataset, datasetDir, standardClassNames, DATASET_NAMES } from './load.js';
export type { DatasetName, LoadOptions } from './load.js';
