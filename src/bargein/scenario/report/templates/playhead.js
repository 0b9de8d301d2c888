// Moves a playhead line over the timeline while the recording plays; a click seeks.
(function(){
var svg=document.getElementById('timeline'),audio=document.getElementById('player');
if(!svg||!audio)return;
var rs=+svg.dataset.rowSeconds,px=+svg.dataset.plotX,pw=+svg.dataset.plotW,
rh=+svg.dataset.rowH,rows=svg.querySelectorAll('g.row');
function draw(){var t=audio.currentTime,r=Math.min(rows.length-1,Math.floor(t/rs));
rows.forEach(function(g,i){var l=g.querySelector('.playhead'),
x=i===r?px+(t-i*rs)/rs*pw:-10;l.setAttribute('x1',x);l.setAttribute('x2',x);});
if(!audio.paused)requestAnimationFrame(draw);}
audio.addEventListener('play',draw);audio.addEventListener('timeupdate',draw);
audio.addEventListener('seeked',draw);
svg.addEventListener('click',function(e){var p=svg.createSVGPoint();p.x=e.clientX;
p.y=e.clientY;p=p.matrixTransform(svg.getScreenCTM().inverse());
var r=Math.floor(p.y/rh),t=r*rs+(p.x-px)/pw*rs;
if(r>=0&&r<rows.length&&t>=0){audio.currentTime=Math.min(t,+svg.dataset.duration);draw();}});
})();
