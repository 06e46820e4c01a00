import { validate } from './src/api/validate.js';
const S='/work/shared/';
const t=Date.now();
const r = await validate(S+'models/resnet8-cifar10/float.onnx', S+'models/resnet8-cifar10/int8-reference.tflite', { data: S+'data/cifar10/test-200', limit: 40, modes: ['tflite-xnnpack'], executors: ['runtime','litert'] });
console.log(Date.now()-t, JSON.stringify({...r, executors: r.executors.map(e=>({...e, confusion: undefined, layers: e.layers.map(l=>[l.value,l.op,l.sqnrDb.toFixed(1)])}))}, null, 0));
