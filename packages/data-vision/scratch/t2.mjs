import jpeg from 'jpeg-js';
for (let k=0;k<4;k++){ const t=performance.now(); const d=Buffer.alloc(40*30*4,128); jpeg.encode({data:d,width:40,height:30},90); console.log(performance.now()-t);}
