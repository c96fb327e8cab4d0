import { sampleJpeg, encodeExampleByHand, frameByHand } from '../test/fixtures.ts';
let t=Date.now(); const imgs=[]; for(let i=0;i<10;i++) imgs.push(sampleJpeg(i)); console.log('jpeg',Date.now()-t, imgs[0].length);
t=Date.now(); const ex=imgs.map(im=>encodeExampleByHand({'image/encoded':{bytes:im},'image/class/label':{int64:3}})); console.log('ex',Date.now()-t);
t=Date.now(); ex.map(frameByHand); console.log('frame',Date.now()-t);
