/**
 * The written forms of a region of interest (parsed by src/imaging/roi.ts). Its own module (no
 * imports) so that the command line's help can show them without loading the imaging code.
 */
export const ROI_SPEC_HELP =
  'box:i0,j0,k0,i1,j1,k1 | box-mm:x0,y0,z0,x1,y1,z1 | sphere:i,j,k,r (r in voxels) | ' +
  'sphere-mm:x,y,z,r (patient LPS mm) | sphere-ijk-mm:i,j,k,r (voxel centre, r in mm) | mask:<path> | whole';
