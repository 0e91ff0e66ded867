"""Per-round figures and medians of a latency-<HHMM>.jsonl written by run.sh: ResNet-18
1W/1A at batch 1 (ms; GBMAC/s of the binary convs with the AVX-512 and AVX2 kernels; the
ratios of issue 7) and ResNet-20 1W/1A. Usage: python3 summary.py latency-0359.jsonl"""
import json,statistics as st,sys
L=[json.loads(l) for l in open(sys.argv[1])]
def one(r,bench,engine,isa=None):
    xs=[l['value'] for l in L if l['round']==r and l['bench']==bench and l['engine']==engine and (isa is None or l.get('isa')==isa)]
    return xs[0] if xs else None
R=sorted({l['round'] for l in L}); B='latency/resnet18-1w1a-bihalf'
rows={'native':[], 'wasm':[], 'js':[], 'float':[], 'pytorch':[], 'bmacs512':[], 'bmacs2':[], 'x_float':[], 'x_pt':[], 'wasm_over_native':[], 'native_avx2':[], 'r20native':[], 'r20wasm':[], 'r20pt':[], 'r20float':[]}
for r in R:
    rs=[l for l in L if l['round']==r]
    nat=[l['value'] for l in rs if l['bench']==B and l['engine']=='equalbits-packed-native']
    was=[l['value'] for l in rs if l['bench']==B and l['engine']=='equalbits-packed-wasm']
    rows['native'].append(nat[0]); rows['native_avx2'].append(nat[1]); rows['wasm'].append(was[0])
    rows['js'].append([l['value'] for l in rs if l['bench']==B and l['engine']=='equalbits-packed-js'][0])
    rows['float'].append([l['value'] for l in rs if l['bench']==B and l['engine']=='equalbits-float'][0])
    rows['pytorch'].append(one(r,B,'pytorch'))
    rows['bmacs512'].append(one(r,'bmacs/resnet18-1w1a-bihalf','equalbits-packed-native','avx512'))
    rows['bmacs2'].append(one(r,'bmacs/resnet18-1w1a-bihalf','equalbits-packed-native','avx2'))
    rows['x_float'].append(rows['float'][-1]/nat[0]); rows['x_pt'].append(rows['pytorch'][-1]/nat[0]); rows['wasm_over_native'].append(was[0]/nat[0])
    B2='latency/resnet20-1w1a-bihalf'
    rows['r20native'].append(one(r,B2,'equalbits-packed-native')); rows['r20wasm'].append(one(r,B2,'equalbits-packed-wasm')); rows['r20pt'].append(one(r,B2,'pytorch')); rows['r20float'].append(one(r,B2,'equalbits-float'))
for k,v in rows.items(): print(f"{k:18s}", ' '.join(f"{x:8.3f}" for x in v), ' median', round(st.median(v),3))
